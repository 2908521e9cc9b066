using System.Net;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Redis;

/// <summary>
/// Two nodes on one PostgreSQL database and one Redis: the live stream crosses nodes exactly once,
/// with the receiving node's filters and organization scoping, and a key's rate limit is one limit
/// for both nodes together.
/// </summary>
public sealed class MultiNodeTests(MultiNodeTests.Nodes fixture) : IClassFixture<MultiNodeTests.Nodes>
{
    /// <summary>Every key's bucket: this many events, refilled at one per 1000 s (no refill during a test).</summary>
    private const int Burst = 10;

    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1.5);

    /// <summary>The two nodes, started once for the class; each test makes its own tenants.</summary>
    public sealed class Nodes : IAsyncLifetime
    {
        public NodePair Pair { get; private set; } = null!;

        public async Task InitializeAsync() =>
            Pair = await NodePair.StartAsync(TestRedis.Shared(), new Dictionary<string, string?>
            {
                ["Faultline:Ingest:RateLimit:EventsPerSecond"] = "0.001",
                ["Faultline:Ingest:RateLimit:Burst"] = Burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });

        public async Task DisposeAsync() => await Pair.DisposeAsync();
    }

    [Fact]
    public async Task An_event_ingested_on_node_A_reaches_a_subscriber_on_node_B_exactly_once_and_filters_and_organizations_still_apply()
    {
        var acme = await fixture.Pair.A.CreateTenantAsync("acme");
        var globex = await fixture.Pair.B.CreateTenantAsync("globex");
        using var onB = await NodePair.SubscribeAsync(fixture.Pair.B, acme, $"project={acme.ProjectId}");
        using var errorsOnB = await NodePair.SubscribeAsync(fixture.Pair.B, acme, $"project={acme.ProjectId}&level=error&query=payment");
        using var onA = await NodePair.SubscribeAsync(fixture.Pair.A, acme, $"project={acme.ProjectId}");
        using var globexOnB = await NodePair.SubscribeAsync(fixture.Pair.B, globex, $"project={globex.ProjectId}");

        var declined = await NodePair.SendAsync(fixture.Pair.A, acme, "payment declined");
        var slow = await NodePair.SendAsync(fixture.Pair.A, acme, "payment slow", level: "warning");
        var empty = await NodePair.SendAsync(fixture.Pair.A, acme, "cart empty");

        // Across nodes each batch is its own message, so arrival order between batches is not promised.
        Assert.Equal(new[] { declined, slow, empty }.Order(), (await onB.TakeWhenQuietAsync(Quiet)).Order());
        Assert.Equal([declined], await errorsOnB.TakeWhenQuietAsync(Quiet));
        Assert.Equal([declined, slow, empty], await onA.TakeWhenQuietAsync(Quiet));
        Assert.Empty(await globexOnB.TakeWhenQuietAsync(Quiet));
    }

    [Fact]
    public async Task Events_ingested_on_both_nodes_reach_subscribers_on_both_nodes_once_each()
    {
        var globex = await fixture.Pair.B.CreateTenantAsync("globex");
        using var onA = await NodePair.SubscribeAsync(fixture.Pair.A, globex, $"project={globex.ProjectId}");
        using var onB = await NodePair.SubscribeAsync(fixture.Pair.B, globex, $"project={globex.ProjectId}");

        var fromA = await NodePair.SendAsync(fixture.Pair.A, globex, "from node A");
        var fromB = await NodePair.SendAsync(fixture.Pair.B, globex, "from node B");

        var seenOnA = await onA.TakeWhenQuietAsync(Quiet);
        var seenOnB = await onB.TakeWhenQuietAsync(Quiet);
        Assert.Equal(new[] { fromA, fromB }.Order(), seenOnA.Order());
        Assert.Equal(new[] { fromA, fromB }.Order(), seenOnB.Order());
    }

    [Fact]
    public async Task A_key_rate_limit_is_enforced_by_both_nodes_together()
    {
        var limited = await fixture.Pair.A.CreateTenantAsync("limited");
        var other = await fixture.Pair.B.CreateTenantAsync("other");

        // Alternating nodes: each node alone sees only half of the burst, so only a shared bucket refuses.
        for (var i = 0; i < Burst; i++)
        {
            await NodePair.SendAsync(i % 2 == 0 ? fixture.Pair.A : fixture.Pair.B, limited, $"event {i}");
        }
        using var onA = await NodePair.IngestAsync(fixture.Pair.A, limited, """{"message":"one too many"}""");
        using var onB = await NodePair.IngestAsync(fixture.Pair.B, limited, """{"message":"one too many"}""");

        Assert.Equal(HttpStatusCode.TooManyRequests, onA.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, onB.StatusCode);
        Assert.True(onB.Headers.RetryAfter?.Delta > TimeSpan.FromSeconds(100), $"Retry-After {onB.Headers.RetryAfter}: one event refills in 1000 s");
        // Another key keeps its own bucket.
        await NodePair.SendAsync(fixture.Pair.B, other, "another key");
    }
}
