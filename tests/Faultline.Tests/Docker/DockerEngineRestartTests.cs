using System.Diagnostics;
using System.Net.Http.Json;
using Faultline.Docker;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Faultline.Tests.Docker;

/// <summary>
/// The watcher across a real dockerd restart. The shared test engine cannot be restarted under the
/// other Docker tests, so this test starts an engine of its own with scripts/docker.sh (own data root
/// and socket), stops it by its pid the way an operator or a package upgrade does, and starts it again
/// on the same socket: the watcher must notice, reconnect and report a failure after the restart.
/// </summary>
public sealed class DockerEngineRestartTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"fl-dockerd-{Guid.NewGuid():N}"[..24]);
    private TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync(StoreKind.Sqlite);

    public async Task DisposeAsync()
    {
        await ScriptAsync("stop");
        await _database.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Docker's overlay mounts may linger for a moment; the folder is in /tmp.
        }
    }

    [DockerFact]
    public async Task The_watcher_reconnects_after_the_engine_process_restarts()
    {
        var engine = await ScriptAsync("start");
        var key = Guid.NewGuid().ToString("N");
        var tenant = await DockerWatcherTests.CreateTenantAsync(_database, key);
        await using var server = RestartableServer.Start(_database, new Dictionary<string, string?>
        {
            ["Faultline:Docker:Watcher:Endpoint"] = engine,
            ["Faultline:Docker:Watcher:ProjectKey"] = key,
            ["Faultline:Docker:Watcher:ReconnectDelay"] = "00:00:00.5",
        });
        var watcher = server.Services.GetRequiredService<EngineWatcher>();
        using var api = server.ApiClient(tenant.Token);
        var word = "r" + Guid.NewGuid().ToString("N")[..10];
        await DockerWatcherTests.WaitUntilAsync(() => Task.FromResult(watcher.Connected), () => "the watcher did not connect");

        var before = "fl-before-" + word;
        await DockerEngine.RunOnAsync(engine, "run", "--network", "none", "--name", before, DockerEngine.Image, "/bin/sh", "-c", "exit 4");
        await DockerWatcherTests.WaitForEventAsync(api, tenant.ProjectId, before, "container-died");

        await ScriptAsync("stop");
        await DockerWatcherTests.WaitUntilAsync(() => Task.FromResult(!watcher.Connected), () => "the watcher did not notice dockerd stopping");

        Assert.Equal(engine, await ScriptAsync("start"));
        await DockerWatcherTests.WaitUntilAsync(() => Task.FromResult(watcher.Connected), () => "the watcher did not reconnect to the restarted dockerd");
        var after = "fl-after-" + word;
        var run = await DockerEngine.RunOnAsync(engine, "run", "--network", "none", "--name", after, DockerEngine.Image, "/bin/sh", "-c", "exit 6");
        Assert.Equal(6, run.ExitCode);
        var died = await DockerWatcherTests.WaitForEventAsync(api, tenant.ProjectId, after, "container-died");
        Assert.Equal("6", LogReceiverHarness.Tag(died, "exit_code"));
        // The failure from before the restart is stored once, whatever the engine replays.
        var events = await api.GetFromJsonAsync<System.Text.Json.JsonElement>(
            $"/api/v1/projects/{tenant.ProjectId}/events?limit=100&query={Uri.EscapeDataString($"container_name:{before}")}");
        Assert.Single(events.GetProperty("items").EnumerateArray(), e => LogReceiverHarness.Tag(e, "docker_event") == "container-died");
    }

    /// <summary>scripts/docker.sh start|stop on this test's folder; start prints the engine endpoint.</summary>
    private async Task<string> ScriptAsync(string command)
    {
        var start = new ProcessStartInfo(Path.Combine(RepositoryFiles.Root, "scripts", "docker.sh"), [command, _directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"scripts/docker.sh {command} exited {process.ExitCode}: {await error}");
        return (await output).Trim();
    }
}
