using System.Diagnostics;
using Faultline.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Faultline.Tests.Docker;

/// <summary>
/// The Docker engine ./test.sh starts (scripts/docker.sh): FAULTLINE_TEST_DOCKER_HOST is its endpoint.
/// When dockerd cannot run on a machine, test.sh sets FAULTLINE_TEST_DOCKER_UNAVAILABLE to the reason
/// and these tests are skipped with it, visibly. With neither set they fail: run them through ./test.sh.
/// </summary>
public static class DockerEngine
{
    public const string HostVariable = "FAULTLINE_TEST_DOCKER_HOST";
    public const string UnavailableVariable = "FAULTLINE_TEST_DOCKER_UNAVAILABLE";
    public const string Image = "faultline-test/busybox:latest";

    public static string Host => Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } host
        ? host
        : throw new InvalidOperationException($"The Docker tests need {HostVariable} (a dockerd endpoint with the image {Image}); ./test.sh starts one with scripts/docker.sh.");

    /// <summary>Runs /usr/bin/docker against the test engine; returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(params string[] arguments) => RunOnAsync(Host, arguments);

    /// <summary>Runs /usr/bin/docker against the engine at <paramref name="host"/>.</summary>
    public static async Task<(int ExitCode, string Output)> RunOnAsync(string host, params string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/docker") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-H");
        start.ArgumentList.Add(host);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>A Fact skipped (with the reason) only when test.sh found that dockerd cannot run here.</summary>
public sealed class DockerFactAttribute : FactAttribute
{
    public DockerFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(DockerEngine.UnavailableVariable) is { Length: > 0 } reason)
        {
            Skip = "dockerd cannot run on this machine: " + reason;
        }
    }
}

/// <summary>The server on a database it does not own, so a test can stop it and start another on the same data.</summary>
public sealed class RestartableServer(TestDatabase database, IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    public static RestartableServer Start(TestDatabase database, IReadOnlyDictionary<string, string?> settings)
    {
        var server = new RestartableServer(database, settings);
        _ = server.Server;
        return server;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in database.Settings.Concat(settings))
        {
            builder.UseSetting(key, value);
        }
    }

    public HttpClient ApiClient(string token)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
