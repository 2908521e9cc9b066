using System.Diagnostics;
using System.Net;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Faultline.Tests.Infrastructure;
using StackExchange.Redis;

namespace Faultline.Tests.Redis;

/// <summary>
/// Two Faultline servers (real Kestrel) on one PostgreSQL database and one Redis, as several nodes
/// behind a load balancer run. Each test class gets its own database and Redis key prefix.
/// </summary>
public sealed class NodePair : IAsyncDisposable
{
    private readonly TestDatabase _database;

    private NodePair(TestDatabase database, KestrelFaultline a, KestrelFaultline b, TestRedis redis, string prefix)
    {
        _database = database;
        A = a;
        B = b;
        Redis = redis;
        Prefix = prefix;
    }

    public KestrelFaultline A { get; }
    public KestrelFaultline B { get; }
    public TestRedis Redis { get; }
    public string Prefix { get; }

    public static async Task<NodePair> StartAsync(TestRedis redis, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var prefix = $"flt-test-{Guid.NewGuid():N}:";
        var merged = new Dictionary<string, string?>(redis.Settings(prefix));
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }
        var database = await TestDatabase.CreateAsync(StoreKind.Postgres);
        var a = KestrelFaultline.StartNode(database, merged);
        var b = KestrelFaultline.StartNode(database, merged);
        var pair = new NodePair(database, a, b, redis, prefix);
        await pair.WaitForBackplaneAsync();
        return pair;
    }

    /// <summary>Both nodes connected and subscribed (PUBSUB NUMSUB on the live channel says 2).</summary>
    public async Task WaitForBackplaneAsync()
    {
        await using var client = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString);
        var server = client.GetServer(client.GetEndPoints()[0]);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var result = await server.ExecuteAsync("PUBSUB", "NUMSUB", Prefix + "live");
            var subscribers = (long)((RedisResult[])result!)[1];
            if (subscribers >= 2)
            {
                return;
            }
            if (watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"Only {subscribers} of 2 nodes subscribed to {Prefix}live within 30 s.");
            }
            await Task.Delay(100);
        }
    }

    public static async Task<HttpResponseMessage> IngestAsync(KestrelFaultline node, TestTenant tenant, string json)
    {
        using var client = new HttpClient { BaseAddress = node.Address };
        client.DefaultRequestHeaders.Add("X-Faultline-Key", tenant.PublicKey);
        return await client.PostAsync("/api/v1/events", new StringContent(json, Encoding.UTF8, "application/json"));
    }

    /// <summary>One event with a known id, ingested and acknowledged (202).</summary>
    public static async Task<string> SendAsync(KestrelFaultline node, TestTenant tenant, string message, string level = "error")
    {
        var id = Guid.NewGuid().ToString("N");
        using var response = await IngestAsync(node, tenant, $$"""{"event_id":"{{id}}","level":"{{level}}","message":"{{message}}"}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return id;
    }

    public static async Task<LiveListener> SubscribeAsync(KestrelFaultline node, TestTenant caller, string query)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {caller.Token}");
        await socket.ConnectAsync(new Uri($"ws://{node.Address.Host}:{node.Address.Port}/api/v1/live?{query}"), CancellationToken.None);
        return new LiveListener(socket);
    }

    public static List<string?> EventIds(IEnumerable<JsonElement> messages) =>
        [.. messages.Where(m => m.GetProperty("type").GetString() == "event").Select(m => m.GetProperty("eventId").GetString())];

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        await _database.DisposeAsync();
    }
}

/// <summary>
/// A live-stream WebSocket read in the background (a cancelled receive would abort a ClientWebSocket),
/// so a test can look at what arrived several times.
/// </summary>
public sealed class LiveListener : IDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentQueue<JsonElement> _messages = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;

    public LiveListener(ClientWebSocket socket)
    {
        _socket = socket;
        _reading = Task.Run(ReadAsync);
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                _messages.Enqueue(JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement.Clone());
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
    }

    /// <summary>Event ids received so far (in order), and forgets them.</summary>
    public List<string?> Take()
    {
        var taken = new List<JsonElement>();
        while (_messages.TryDequeue(out var message))
        {
            taken.Add(message);
        }
        return NodePair.EventIds(taken);
    }

    /// <summary>Event ids received until nothing more arrives for the quiet period (and forgets them).</summary>
    public async Task<List<string?>> TakeWhenQuietAsync(TimeSpan quiet)
    {
        var seen = -1;
        while (seen != _messages.Count)
        {
            seen = _messages.Count;
            await Task.Delay(quiet);
        }
        return Take();
    }

    /// <summary>Waits until an event with the id arrives; false after the timeout.</summary>
    public async Task<bool> WaitForAsync(string eventId, TimeSpan timeout)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (NodePair.EventIds(_messages).Contains(eventId))
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _reading.Wait(TimeSpan.FromSeconds(5));
        _socket.Dispose();
        _stop.Dispose();
    }
}
