using System.Net.Http.Json;
using System.Net.Sockets;
using Faultline.Docker;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Faultline.Tests.Docker;

/// <summary>
/// The watcher when the engine goes away and comes back. The shared test engine cannot be restarted
/// under the other Docker tests, so the watcher talks to it through a Unix socket proxy of this test:
/// stopping the proxy cuts the event stream and refuses connections, as a stopped dockerd does, and
/// starting it again on the same path is the engine coming back. A container that failed meanwhile is
/// reported after the reconnect (the watcher asks for events since the last one it saw).
/// </summary>
public sealed class DockerWatcherReconnectTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private readonly List<string> _containers = [];

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync(StoreKind.Sqlite);

    public async Task DisposeAsync()
    {
        foreach (var container in _containers)
        {
            await DockerEngine.RunAsync("rm", "-f", container);
        }
        await _database.DisposeAsync();
    }

    [DockerFact]
    public async Task The_watcher_reconnects_when_the_engine_comes_back_and_reports_what_failed_meanwhile()
    {
        var key = Guid.NewGuid().ToString("N");
        var tenant = await DockerWatcherTests.CreateTenantAsync(_database, key);
        var enginePath = DockerEngine.Host.StartsWith("unix://", StringComparison.Ordinal)
            ? DockerEngine.Host["unix://".Length..]
            : throw new InvalidOperationException($"expected a unix:// engine endpoint, got {DockerEngine.Host}");
        await using var engine = new UnixSocketProxy(Path.Combine(Path.GetTempPath(), $"fl-engine-{Guid.NewGuid():N}.sock"), enginePath);
        engine.Start();
        await using var server = RestartableServer.Start(_database, new Dictionary<string, string?>
        {
            ["Faultline:Docker:Watcher:Endpoint"] = engine.Endpoint,
            ["Faultline:Docker:Watcher:ProjectKey"] = key,
            ["Faultline:Docker:Watcher:ReconnectDelay"] = "00:00:00.5",
        });
        var watcher = server.Services.GetRequiredService<EngineWatcher>();
        using var api = server.ApiClient(tenant.Token);
        var word = "w" + Guid.NewGuid().ToString("N")[..10];
        await DockerWatcherTests.WaitUntilAsync(() => Task.FromResult(watcher.Connected), () => "the watcher did not connect");

        // One failure while connected, so the watcher has seen an event to continue from.
        var before = Container("fl-before-" + word);
        await DockerEngine.RunAsync("run", "--network", "none", "--name", before, DockerEngine.Image, "/bin/sh", "-c", "exit 4");
        await DockerWatcherTests.WaitForEventAsync(api, tenant.ProjectId, before, "container-died");

        engine.Stop();
        await DockerWatcherTests.WaitUntilAsync(() => Task.FromResult(!watcher.Connected), () => "the watcher did not notice the engine going away");
        var meanwhile = Container("fl-meanwhile-" + word);
        var run = await DockerEngine.RunAsync("run", "--network", "none", "--name", meanwhile, DockerEngine.Image, "/bin/sh", "-c", "exit 5");
        Assert.Equal(5, run.ExitCode);
        // Long enough for several refused reconnects.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(watcher.Connected);

        engine.Start();
        await DockerWatcherTests.WaitUntilAsync(() => Task.FromResult(watcher.Connected), () => "the watcher did not reconnect");
        var missed = await DockerWatcherTests.WaitForEventAsync(api, tenant.ProjectId, meanwhile, "container-died");
        Assert.Equal("5", LogReceiverHarness.Tag(missed, "exit_code"));

        var after = Container("fl-after-" + word);
        await DockerEngine.RunAsync("run", "--network", "none", "--name", after, DockerEngine.Image, "/bin/sh", "-c", "exit 6");
        var died = await DockerWatcherTests.WaitForEventAsync(api, tenant.ProjectId, after, "container-died");
        Assert.Equal("6", LogReceiverHarness.Tag(died, "exit_code"));
        // The replay after the reconnect did not store the first failure twice.
        var events = await api.GetFromJsonAsync<System.Text.Json.JsonElement>(
            $"/api/v1/projects/{tenant.ProjectId}/events?limit=100&query={Uri.EscapeDataString($"container_name:{before}")}");
        Assert.Single(events.GetProperty("items").EnumerateArray(), e => LogReceiverHarness.Tag(e, "docker_event") == "container-died");
    }

    private string Container(string name)
    {
        _containers.Add(name);
        return name;
    }

    /// <summary>Forwards every connection on its own Unix socket to the engine's; Stop closes all of them and the socket.</summary>
    private sealed class UnixSocketProxy(string path, string target) : IAsyncDisposable
    {
        private readonly List<Socket> _open = [];
        private Socket? _listener;

        public string Endpoint => "unix://" + path;

        public void Start()
        {
            File.Delete(path);
            _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(16);
            _ = AcceptAsync(_listener);
        }

        private async Task AcceptAsync(Socket listener)
        {
            while (true)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                var engine = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await engine.ConnectAsync(new UnixDomainSocketEndPoint(target));
                lock (_open)
                {
                    _open.Add(client);
                    _open.Add(engine);
                }
                _ = PumpAsync(client, engine);
                _ = PumpAsync(engine, client);
            }
        }

        private static async Task PumpAsync(Socket from, Socket to)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                {
                    await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                }
                to.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // One side closed: Stop, or the connection ended.
            }
        }

        public void Stop()
        {
            _listener?.Dispose();
            _listener = null;
            lock (_open)
            {
                foreach (var socket in _open)
                {
                    socket.Dispose();
                }
                _open.Clear();
            }
            File.Delete(path);
        }

        public ValueTask DisposeAsync()
        {
            Stop();
            return ValueTask.CompletedTask;
        }
    }
}
