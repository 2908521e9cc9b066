using System.Globalization;
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
/// A real Docker engine runs containers with the syslog and gelf log drivers pointed at Faultline;
/// they print lines and exit with code 1. The lines are stored under the container's name, the error
/// line made an error issue, the watcher made a container-died event, and all of it survives a
/// restart of the server. Both engines.
/// </summary>
public abstract class DockerLogDriverTests(StoreKind kind) : IAsyncLifetime
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

    private Dictionary<string, string?> Settings(string key, bool withPorts) => new()
    {
        ["Faultline:Docker:Listeners:syslog:Protocol"] = "SyslogTcp",
        ["Faultline:Docker:Listeners:syslog:ProjectKey"] = key,
        ["Faultline:Docker:Listeners:gelf:Protocol"] = "GelfUdp",
        ["Faultline:Docker:Listeners:gelf:ProjectKey"] = key,
        ["Faultline:Docker:Watcher:Endpoint"] = withPorts ? DockerEngine.Host : null,
        ["Faultline:Docker:Watcher:ProjectKey"] = key,
    };

    [DockerFact]
    public async Task Container_lines_errors_and_the_non_zero_exit_are_stored_and_survive_a_server_restart()
    {
        var key = Guid.NewGuid().ToString("N");
        // The tenant and its key exist before the watching server starts: otherwise another test's
        // container dying could make this server look the key up first and cache the miss for 30 s.
        TestTenant tenant;
        await using (var setup = RestartableServer.Start(_database, new Dictionary<string, string?>()))
        {
            var accounts = setup.Services.GetRequiredService<AccountService>();
            var email = $"owner-{Guid.NewGuid():N}@docker.test";
            await accounts.CreateUserAsync(email, "a long enough password", isAdmin: false, default);
            var created = await accounts.CreateProjectAsync("docker-" + Guid.NewGuid().ToString("N")[..6], "containers", email, default);
            await setup.Services.GetRequiredService<IAccountStore>().CreateProjectKeyAsync(created.Project.Id, key, DateTimeOffset.UtcNow, default);
            tenant = new TestTenant(created.Project.Id, created.Key.PublicKey, await accounts.CreateApiTokenAsync(email, "tests", default), created.Dsn);
        }
        var server = RestartableServer.Start(_database, Settings(key, withPorts: true));
        string syslogName, gelfName;
        var word = "w" + Guid.NewGuid().ToString("N")[..10];
        try
        {
            var watcher = server.Services.GetRequiredService<EngineWatcher>();
            await WaitUntilAsync(() => Task.FromResult(watcher.Connected), () => "the watcher did not connect to the engine");
            var receivers = server.Services.GetRequiredService<DockerLogReceivers>();
            var syslogPort = receivers.BoundEndpoint("syslog")!.Port.ToString(CultureInfo.InvariantCulture);
            var gelfPort = receivers.BoundEndpoint("gelf")!.Port.ToString(CultureInfo.InvariantCulture);

            var script = $"echo \"started {word}\"; echo \"ERROR payment failed {word}\" >&2; exit 1";
            syslogName = "fl-syslog-" + word;
            gelfName = "fl-gelf-" + word;
            _containers.Add(syslogName);
            _containers.Add(gelfName);
            var syslogRun = await DockerEngine.RunAsync("run", "--network", "none", "--name", syslogName,
                "--log-driver", "syslog", "--log-opt", $"syslog-address=tcp://127.0.0.1:{syslogPort}",
                "--log-opt", "syslog-format=rfc5424micro", "--log-opt", "tag={{.Name}}/{{.ID}}",
                DockerEngine.Image, "/bin/sh", "-c", script);
            Assert.True(syslogRun.ExitCode == 1, $"docker run (syslog) exited {syslogRun.ExitCode}: {syslogRun.Output}");
            var gelfRun = await DockerEngine.RunAsync("run", "--network", "none", "--name", gelfName,
                "--log-driver", "gelf", "--log-opt", $"gelf-address=udp://127.0.0.1:{gelfPort}",
                DockerEngine.Image, "/bin/sh", "-c", script);
            Assert.True(gelfRun.ExitCode == 1, $"docker run (gelf) exited {gelfRun.ExitCode}: {gelfRun.Output}");

            using var api = server.ApiClient(tenant.Token);
            foreach (var name in new[] { syslogName, gelfName })
            {
                var seen = new List<JsonElement>();
                var all = new List<JsonElement>();
                await WaitUntilAsync(async () => (seen = await EventsAsync(api, tenant.ProjectId, $"container_name:{name}")).Count >= 3 || (all = await EventsAsync(api, tenant.ProjectId, "")).Count < 0,
                    () => $"container {name}: expected two lines and a died event, found: {string.Join(" | ", seen.Select(e => e.GetProperty("message").GetString()))}; in the project: {string.Join(" | ", all.Select(e => e.GetProperty("message").GetString() + " " + e.GetProperty("event").GetProperty("tags")))}");
                await AssertContainerStoredAsync(api, tenant.ProjectId, name, word);
            }
        }
        finally
        {
            await server.DisposeAsync();
        }

        // A new server process on the same store: everything is still there.
        await using var restarted = RestartableServer.Start(_database, Settings(key, withPorts: false));
        using var afterRestart = restarted.ApiClient(tenant.Token);
        await AssertContainerStoredAsync(afterRestart, tenant.ProjectId, syslogName, word);
        await AssertContainerStoredAsync(afterRestart, tenant.ProjectId, gelfName, word);
    }

    private static async Task AssertContainerStoredAsync(HttpClient api, long projectId, string name, string word)
    {
        var events = await EventsAsync(api, projectId, $"container_name:{name}");
        var started = Assert.Single(events, e => e.GetProperty("message").GetString() == $"started {word}");
        Assert.Equal("info", started.GetProperty("level").GetString());
        var error = Assert.Single(events, e => e.GetProperty("message").GetString() == $"ERROR payment failed {word}");
        Assert.Equal("error", error.GetProperty("level").GetString());
        var issue = await GetAsync(api, $"/api/v1/issues/{error.GetProperty("issueId").GetInt64()}");
        Assert.Equal("error", issue.GetProperty("level").GetString());
        Assert.Equal($"ERROR payment failed {word}", issue.GetProperty("title").GetString());

        var died = Assert.Single(events, e => LogReceiverHarness.Tag(e, "docker_event") == "container-died");
        Assert.Equal("error", died.GetProperty("level").GetString());
        Assert.Equal("1", LogReceiverHarness.Tag(died, "exit_code"));
        Assert.StartsWith($"Container {name} exited with code 1", died.GetProperty("message").GetString());
        var lastLines = died.GetProperty("event").GetProperty("extra").GetProperty("last_lines").EnumerateArray().Select(l => l.GetString()).ToList();
        Assert.Contains($"ERROR payment failed {word}", lastLines);
    }

    private static async Task<List<JsonElement>> EventsAsync(HttpClient api, long projectId, string query)
    {
        var body = await GetAsync(api, $"/api/v1/projects/{projectId}/events?limit=100&query={Uri.EscapeDataString(query)}");
        return [.. body.GetProperty("items").EnumerateArray()];
    }

    private static async Task<JsonElement> GetAsync(HttpClient api, string path)
    {
        var response = await api.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> failure)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, failure());
            await Task.Delay(200);
        }
    }
}

public sealed class SqliteDockerLogDriverTests() : DockerLogDriverTests(StoreKind.Sqlite);

public sealed class PostgresDockerLogDriverTests() : DockerLogDriverTests(StoreKind.Postgres);
