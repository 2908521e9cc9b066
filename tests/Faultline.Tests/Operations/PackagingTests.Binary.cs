using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace Faultline.Tests.Operations;

public sealed partial class PackagingTests
{
    // --- The single-file binary ----------------------------------------------------------------

    /// <summary>
    /// Publishes the server as the release workflow does (self-contained, single file, linux-x64),
    /// starts it on SQLite in a temporary folder and waits for /readyz; then runs the health checks
    /// of the Dockerfile and compose.yaml against it. Slow (the publish takes about a minute).
    /// </summary>
    [Fact]
    public async Task Self_contained_single_file_binary_starts_and_becomes_ready()
    {
        var work = Directory.CreateTempSubdirectory("faultline-packaging-");
        Process? server = null;
        var log = new StringBuilder();
        try
        {
            // Publish from a copy of the files the Dockerfile copies, so this build shares no obj/
            // folder with the build running the tests.
            var source = Path.Combine(work.FullName, "src");
            foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig" })
            {
                File.Copy(Path.Combine(Root, file), Path.Combine(source, file).CreateParent());
            }
            CopyProject(Path.Combine(Root, "src", "Faultline"), Path.Combine(source, "src", "Faultline"));
            var output = Path.Combine(work.FullName, "publish");
            var (publishExit, publishOutput) = await RunToEndAsync(DotnetHost(),
                ["publish", Path.Combine(source, "src", "Faultline"), "-c", "Release", "-r", "linux-x64", "--self-contained",
                 "-p:PublishSingleFile=true", "-p:IncludeNativeLibrariesForSelfExtract=true", "-o", output, "-nologo"],
                TimeSpan.FromMinutes(8), source);
            Assert.True(publishExit == 0, "dotnet publish failed:\n" + publishOutput);

            // One native executable: no managed assemblies or native libraries beside it.
            var binary = Path.Combine(output, "faultline");
            Assert.True(File.Exists(binary), "no faultline executable in the publish output");
            Assert.DoesNotContain(Directory.GetFiles(output), f => f.EndsWith(".dll", StringComparison.Ordinal) || f.EndsWith(".so", StringComparison.Ordinal));

            var port = FreePort();
            var run = Path.Combine(work.FullName, "run");
            Directory.CreateDirectory(run);
            var start = new ProcessStartInfo(binary)
            {
                WorkingDirectory = run,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add($"http://127.0.0.1:{port}");
            CleanEnvironment(start);
            start.Environment["Faultline__Storage__Provider"] = "sqlite";
            start.Environment["Faultline__Storage__Sqlite__Path"] = Path.Combine(run, "data", "faultline.db");
            start.Environment["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = Path.Combine(work.FullName, "extract");
            server = Process.Start(start) ?? throw new InvalidOperationException("the binary did not start");
            server.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
            server.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
            server.BeginOutputReadLine();
            server.BeginErrorReadLine();

            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpStatusCode? status = null;
            while (DateTime.UtcNow < deadline && !server.HasExited)
            {
                try
                {
                    status = (await client.GetAsync("readyz")).StatusCode;
                    if (status == HttpStatusCode.OK)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }
                await Task.Delay(250);
            }
            Assert.True(status == HttpStatusCode.OK, $"/readyz answered {status?.ToString() ?? "nothing"} (exited: {server.HasExited})\n{Logged(log)}");
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("healthz")).StatusCode);
            Assert.True(File.Exists(Path.Combine(run, "data", "faultline.db")), "the SQLite database is not where the configuration put it");

            // The image's HEALTHCHECK and compose.yaml's check use bash's /dev/tcp (no curl in the
            // image): run both exactly as written, aimed at this server's port.
            var dockerCheck = HealthCheckCommand(SplitStages(DockerfileInstructions())[^1].Single(i => i.Keyword == "HEALTHCHECK").Arguments);
            var composeCheck = ((YamlSequenceNode)Child(Child(ComposeServices()["faultline"], "healthcheck"), "test")!).Children.Select(c => Scalar(c)!).ToArray();
            foreach (var check in new[] { dockerCheck, composeCheck })
            {
                Assert.Equal(["CMD", "bash", "-c"], check[..3]);
                var script = check[3].Replace("127.0.0.1/" + DockerfilePort(), $"127.0.0.1/{port}", StringComparison.Ordinal);
                var (exitCode, checkOutput) = await RunToEndAsync("bash", ["-c", script], TimeSpan.FromSeconds(20));
                Assert.True(exitCode == 0, $"health check failed against a ready server: {check[3]}\n{checkOutput}");
                var (missingExit, _) = await RunToEndAsync("bash", ["-c", script.Replace(" 200 ", " 299 ", StringComparison.Ordinal)], TimeSpan.FromSeconds(20));
                Assert.NotEqual(0, missingExit); // the check reads the status, not only the connection
            }
        }
        finally
        {
            if (server is not null)
            {
                if (!server.HasExited)
                {
                    server.Kill(entireProcessTree: true);
                    await server.WaitForExitAsync();
                }
                server.Dispose();
            }
            work.Delete(recursive: true);
        }
    }


    private static void CopyProject(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            var top = relative.Split(Path.DirectorySeparatorChar)[0];
            if (top is "bin" or "obj" or "data")
            {
                continue;
            }
            File.Copy(file, Path.Combine(to, relative).CreateParent());
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Nothing from the shell or the test host that would steer a child build or server.</summary>
    private static void CleanEnvironment(ProcessStartInfo start)
    {
        foreach (var key in start.Environment.Keys.Where(k =>
            k.StartsWith("Faultline__", StringComparison.OrdinalIgnoreCase) ||
            k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) ||
            k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) ||
            k.Equals("Urls", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunToEndAsync(string file, string[] args, TimeSpan timeout, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        CleanEnvironment(start);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s.\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
