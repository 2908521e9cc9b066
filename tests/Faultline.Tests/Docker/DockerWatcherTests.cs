using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Accounts;
using Faultline.Docker;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Faultline.Tests.Docker;

/// <summary>
/// The engine watcher against a real Docker engine: a container in a restart loop (--restart on-failure,
/// exit 3), one killed by the OOM killer (--memory 16m), and one whose health check fails become the
/// error events docs/docker.md lists, with the container's last lines (from the engine's own log, as no
/// receiver saw them), and count towards the container's log stream. Both engines.
/// </summary>
public abstract class DockerWatcherTests(StoreKind kind) : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private readonly List<string> _containers = [];

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync(kind);

    public async Task DisposeAsync()
    {
        foreach (var container in _containers)
        {
            await DockerEngine.RunAsync("rm", "-f", container);
        }
        await _database.DisposeAsync();
    }

    [DockerFact]
    public async Task Restart_loops_oom_kills_and_failing_health_checks_become_error_events()
    {
        var key = Guid.NewGuid().ToString("N");
        var tenant = await CreateTenantAsync(_database, key);
        await using var server = RestartableServer.Start(_database, new Dictionary<string, string?>
        {
            ["Faultline:Docker:Watcher:Endpoint"] = DockerEngine.Host,
            ["Faultline:Docker:Watcher:ProjectKey"] = key,
            ["Faultline:Docker:Watcher:RestartLoopCount"] = "3",
        });
        var watcher = server.Services.GetRequiredService<EngineWatcher>();
        await WaitUntilAsync(() => Task.FromResult(watcher.Connected), () => "the watcher did not connect to the engine");
        using var api = server.ApiClient(tenant.Token);
        var word = "w" + Guid.NewGuid().ToString("N")[..10];
        var looping = Container("fl-loop-" + word);
        var oom = Container("fl-oom-" + word);
        var sick = Container("fl-sick-" + word);

        await RunAsync("run", "-d", "--network", "none", "--name", looping, "--restart", "on-failure:5",
            DockerEngine.Image, "/bin/sh", "-c", $"echo \"crashing {word}\"; exit 3");
        // tail keeps its whole input in memory: the OOM killer stops it at the 16 MiB limit.
        var oomRun = await DockerEngine.RunAsync("run", "--network", "none", "--name", oom, "--memory", "16m", "--memory-swap", "16m",
            DockerEngine.Image, "/bin/sh", "-c", $"echo \"allocating {word}\"; head -c 300m /dev/zero | tail");
        Assert.True(oomRun.ExitCode == 137, $"the memory-limited container exited {oomRun.ExitCode}, not 137 (killed): {oomRun.Output}");
        await RunAsync("run", "-d", "--network", "none", "--name", sick, "--health-cmd", "exit 1", "--health-interval", "1s", "--health-retries", "1",
            DockerEngine.Image, "/bin/sh", "-c", $"echo \"serving {word}\"; sleep 120");

        var loop = await WaitForEventAsync(api, tenant.ProjectId, looping, "container-restart-loop");
        Assert.Equal("error", loop.GetProperty("level").GetString());
        Assert.StartsWith($"Container {looping} is in a restart loop (3 starts within", loop.GetProperty("message").GetString());
        Assert.Contains($"crashing {word}", LastLines(loop));
        var died = await WaitForEventAsync(api, tenant.ProjectId, looping, "container-died");
        Assert.Equal("3", LogReceiverHarness.Tag(died, "exit_code"));

        var outOfMemory = await WaitForEventAsync(api, tenant.ProjectId, oom, "container-oom");
        Assert.Equal("fatal", outOfMemory.GetProperty("level").GetString());
        Assert.StartsWith($"Container {oom} ran out of memory", outOfMemory.GetProperty("message").GetString());
        Assert.Contains($"allocating {word}", LastLines(outOfMemory));
        var killed = await WaitForEventAsync(api, tenant.ProjectId, oom, "container-died");
        Assert.Equal("137", LogReceiverHarness.Tag(killed, "exit_code"));

        var unhealthy = await WaitForEventAsync(api, tenant.ProjectId, sick, "container-unhealthy");
        Assert.Equal("error", unhealthy.GetProperty("level").GetString());
        Assert.StartsWith($"Container {sick} is unhealthy", unhealthy.GetProperty("message").GetString());

        // The failures count towards each container's log stream.
        await WaitUntilAsync(async () =>
        {
            var streams = await api.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{tenant.ProjectId}/streams");
            return new[] { looping, oom, sick }.All(name => streams.EnumerateArray().Any(s => s.GetProperty("name").GetString() == name && s.GetProperty("errors").GetInt64() >= 1));
        }, () => "the containers' streams were not listed with their failures");
    }

    /// <summary>A tenant with project key <paramref name="key"/>, created before the watching server starts (see DockerLogDriverTests).</summary>
    internal static async Task<TestTenant> CreateTenantAsync(TestDatabase database, string key)
    {
        await using var setup = RestartableServer.Start(database, new Dictionary<string, string?>());
        var accounts = setup.Services.GetRequiredService<AccountService>();
        var email = $"owner-{Guid.NewGuid():N}@docker.test";
        await accounts.CreateUserAsync(email, "a long enough password", isAdmin: false, default);
        var created = await accounts.CreateProjectAsync("watch-" + Guid.NewGuid().ToString("N")[..6], "containers", email, default);
        await setup.Services.GetRequiredService<IAccountStore>().CreateProjectKeyAsync(created.Project.Id, key, DateTimeOffset.UtcNow, default);
        return new TestTenant(created.Project.Id, created.Key.PublicKey, await accounts.CreateApiTokenAsync(email, "tests", default), created.Dsn);
    }

    private string Container(string name)
    {
        _containers.Add(name);
        return name;
    }

    private static async Task RunAsync(params string[] arguments)
    {
        var (exitCode, output) = await DockerEngine.RunAsync(arguments);
        Assert.True(exitCode == 0, $"docker {string.Join(' ', arguments)} exited {exitCode}: {output}");
    }

    private static List<string?> LastLines(JsonElement e) =>
        [.. e.GetProperty("event").GetProperty("extra").GetProperty("last_lines").EnumerateArray().Select(l => l.GetString())];

    internal static async Task<JsonElement> WaitForEventAsync(HttpClient api, long projectId, string container, string dockerEvent)
    {
        var found = default(JsonElement);
        var seen = new List<string>();
        await WaitUntilAsync(async () =>
        {
            var response = await api.GetAsync($"/api/v1/projects/{projectId}/events?limit=100&query={Uri.EscapeDataString($"container_name:{container}")}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var items = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().ToList();
            seen = [.. items.Select(i => LogReceiverHarness.Tag(i, "docker_event"))];
            found = items.FirstOrDefault(i => LogReceiverHarness.Tag(i, "docker_event") == dockerEvent);
            return found.ValueKind == JsonValueKind.Object;
        }, () => $"no {dockerEvent} event for {container}; found: {string.Join(", ", seen)}");
        return found;
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> failure)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(45);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, failure());
            await Task.Delay(250);
        }
    }
}

public sealed class SqliteDockerWatcherTests() : DockerWatcherTests(StoreKind.Sqlite);

public sealed class PostgresDockerWatcherTests() : DockerWatcherTests(StoreKind.Postgres);
