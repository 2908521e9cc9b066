using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Redis;

/// <summary>
/// Redis stopped under two running nodes: ingest is still stored and acknowledged on both, each node's
/// own subscribers still get their events, the lost cross-node delivery and the local rate-limit
/// decisions are counted, and after Redis comes back the nodes reconnect and deliver exactly once again.
/// The nodes use a Redis of this test's own, so stopping it touches no other test.
/// </summary>
public sealed partial class RedisOutageTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1.5);

    /// <summary>Below a Redis client timeout (5 s) or the pause below (8 s), far above a normal commit even on a loaded machine.</summary>
    private static readonly TimeSpan MaxIngestTime = TimeSpan.FromSeconds(4.5);

    [Fact]
    public async Task With_Redis_stopped_ingest_is_still_acknowledged_and_stored_and_the_backplane_reconnects_when_it_is_back()
    {
        await using var redis = await TestRedis.StartOwnAsync();
        await using var nodes = await NodePair.StartAsync(redis);
        var tenant = await nodes.A.CreateTenantAsync("outage");
        using var onA = await NodePair.SubscribeAsync(nodes.A, tenant, $"project={tenant.ProjectId}");
        using var onB = await NodePair.SubscribeAsync(nodes.B, tenant, $"project={tenant.ProjectId}");
        var before = await NodePair.SendAsync(nodes.A, tenant, "before the outage");
        Assert.Equal([before], await onB.TakeWhenQuietAsync(Quiet));
        Assert.Equal([before], onA.Take());

        await redis.StopAsync();
        var during = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            during.Add(await NodePair.SendAsync(i % 2 == 0 ? nodes.A : nodes.B, tenant, $"during the outage {i}"));
            // Not a benchmark: only that no request waits for a client timeout (StackExchange.Redis's
            // default is 5 s; Faultline's is 250 ms and fails at once while disconnected). Generous for busy machines.
            Assert.True(watch.Elapsed < MaxIngestTime, $"Ingest took {watch.Elapsed} with Redis down.");
        }

        // Stored: node B reads back what node A acknowledged.
        using var api = nodes.B.ApiClient(tenant.Token);
        foreach (var id in during)
        {
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync($"/api/v1/events/{id}")).StatusCode);
        }
        // Each node's own subscribers still get its events; the other node's do not (counted as dropped).
        Assert.Equal([during[0], during[2], during[4]], await onA.TakeWhenQuietAsync(Quiet));
        Assert.Equal([during[1], during[3]], await onB.TakeWhenQuietAsync(Quiet));
        var metrics = await new HttpClient { BaseAddress = nodes.A.Address }.GetStringAsync("/metrics");
        Assert.True(Sample(metrics, "faultline_live_backplane_dropped_total", "reason=\"redis_unavailable\"") >= 3, metrics);
        Assert.True(Sample(metrics, "faultline_ratelimit_local_fallbacks_total") >= 3, metrics);
        Assert.Equal(0, Sample(metrics, "faultline_redis_connected"));

        await redis.RestartAsync();
        // Reconnection takes the client's retry interval: probe until node B hears node A again.
        var watchReconnect = Stopwatch.StartNew();
        while (true)
        {
            var probe = await NodePair.SendAsync(nodes.A, tenant, "probe");
            if (await onB.WaitForAsync(probe, TimeSpan.FromSeconds(1)))
            {
                break;
            }
            Assert.True(watchReconnect.Elapsed < TimeSpan.FromSeconds(60), "Node B did not receive node A's events within 60 s of Redis restarting.");
        }
        await onA.TakeWhenQuietAsync(Quiet);
        await onB.TakeWhenQuietAsync(Quiet);

        var after = await NodePair.SendAsync(nodes.A, tenant, "after the outage");
        Assert.Equal([after], await onB.TakeWhenQuietAsync(Quiet));
        Assert.Equal([after], onA.Take());
        Assert.Equal(1, Sample(await new HttpClient { BaseAddress = nodes.B.Address }.GetStringAsync("/metrics"), "faultline_redis_connected"));
    }

    [Fact]
    public async Task A_Redis_that_stops_answering_does_not_hold_up_ingest()
    {
        await using var redis = await TestRedis.StartOwnAsync();
        await using var nodes = await NodePair.StartAsync(redis);
        var tenant = await nodes.A.CreateTenantAsync("paused");
        using var onA = await NodePair.SubscribeAsync(nodes.A, tenant, $"project={tenant.ProjectId}");
        await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");

        // Redis keeps the connections open but answers no command for 8 s (the admin connection too): calls time out instead of failing.
        // A request that waited for Redis would take until the pause ends.
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        await server.ExecuteAsync("CLIENT", "PAUSE", "8000", "ALL");
        var sent = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var watch = Stopwatch.StartNew();
            sent.Add(await NodePair.SendAsync(i % 2 == 0 ? nodes.A : nodes.B, tenant, $"while paused {i}"));
            // At most one 250 ms Redis timeout per node, then the node leaves Redis alone for a while.
            Assert.True(watch.Elapsed < MaxIngestTime, $"Ingest took {watch.Elapsed} while Redis did not answer.");
        }

        Assert.Equal([sent[0], sent[2]], await onA.TakeWhenQuietAsync(Quiet));
        var metrics = await new HttpClient { BaseAddress = nodes.A.Address }.GetStringAsync("/metrics");
        Assert.True(Sample(metrics, "faultline_redis_errors_total", "operation=\"rate_limit\"") >= 1, metrics);
    }

    /// <summary>The sum of a metric's samples in Prometheus text (those whose labels contain <paramref name="labels"/>).</summary>
    private static double Sample(string metrics, string name, string labels = "") =>
        metrics.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(line => line.Contains(labels, StringComparison.Ordinal))
            .Select(line => double.Parse(SampleValue().Match(line).Groups[1].Value, CultureInfo.InvariantCulture))
            .Sum();

    [GeneratedRegex(@"\s(\S+)(\s\d+)?$")]
    private static partial Regex SampleValue();
}
