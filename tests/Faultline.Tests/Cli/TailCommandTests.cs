using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Cli;

/// <summary>`faultline tail` against a real server: the terminal sees committed events of its project.</summary>
public sealed class TailCommandTests : IAsyncLifetime
{
    private KestrelFaultline _server = null!;

    public async Task InitializeAsync() => _server = await KestrelFaultline.StartAsync(StoreKind.Sqlite);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Tail_prints_each_matching_event_as_it_is_committed()
    {
        var tenant = await _server.CreateTenantAsync("acme");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "faultline.dll"), "tail", "--url", _server.Address.ToString(),
            "--project", tenant.ProjectId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--level", "error", "--json"])
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["FAULTLINE_TOKEN"] = tenant.Token;
        using var tail = Process.Start(start)!;
        var lines = new List<string>();
        var firstLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        tail.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lock (lines)
                {
                    lines.Add(line);
                }
                firstLine.TrySetResult(line);
            }
        };
        tail.BeginOutputReadLine();
        try
        {
            using var ingest = new HttpClient { BaseAddress = _server.Address };
            ingest.DefaultRequestHeaders.Add("X-Faultline-Key", tenant.PublicKey);
            // The subscription is open once the process has connected; send until the first line shows.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!firstLine.Task.IsCompleted && DateTime.UtcNow < deadline)
            {
                var warning = await ingest.PostAsync("/api/v1/events", new StringContent("""{"level":"warning","message":"not an error"}""", Encoding.UTF8, "application/json"));
                var error = await ingest.PostAsync("/api/v1/events", new StringContent("""{"level":"error","message":"tail sees this"}""", Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.Accepted, warning.StatusCode);
                Assert.Equal(HttpStatusCode.Accepted, error.StatusCode);
                await Task.WhenAny(firstLine.Task, Task.Delay(500));
            }

            if (!firstLine.Task.IsCompleted)
            {
                tail.Kill(entireProcessTree: true);
                Assert.Fail("tail printed nothing within 30 s: " + await tail.StandardError.ReadToEndAsync());
            }
            using var message = JsonDocument.Parse(await firstLine.Task);
            Assert.Equal("tail sees this", message.RootElement.GetProperty("message").GetString());
            lock (lines)
            {
                Assert.DoesNotContain(lines, line => line.Contains("not an error", StringComparison.Ordinal));
            }
        }
        finally
        {
            tail.Kill(entireProcessTree: true);
            await tail.WaitForExitAsync();
        }
    }
}
