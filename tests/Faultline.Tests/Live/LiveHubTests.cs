using Faultline.Live;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Live;

public sealed class LiveHubTests
{
    private static BatchWriteResult Batch(long projectId, int count) =>
        new(Enumerable.Range(0, count).Select(i => new StoredEvent(EventBuilder.Prepare(projectId, EventBuilder.Message($"m{i}")), 1)).ToList(), []);

    [Fact]
    public void A_subscriber_that_does_not_read_loses_messages_past_its_buffer_and_they_are_counted()
    {
        var hub = new LiveHub();
        using var slow = hub.Subscribe(1, LiveFilter.Parse(null, null, DateTimeOffset.UtcNow));

        hub.OnCommitted(Batch(1, LiveHub.SubscriberBuffer + 250));

        Assert.Equal(LiveHub.SubscriberBuffer, slow.Events.Count);
        Assert.Equal(250, slow.TakeDropped());
        Assert.Equal(0, slow.TakeDropped());
    }

    [Fact]
    public void Events_of_other_projects_and_closed_subscriptions_get_nothing()
    {
        var hub = new LiveHub();
        using var other = hub.Subscribe(2, LiveFilter.Parse(null, null, DateTimeOffset.UtcNow));
        var closed = hub.Subscribe(1, LiveFilter.Parse(null, null, DateTimeOffset.UtcNow));
        closed.Dispose();

        hub.OnCommitted(Batch(1, 3));

        Assert.Equal(0, other.Events.Count);
        Assert.False(closed.Events.TryRead(out _));
    }

    [Theory]
    [InlineData("level:error", true)]
    [InlineData("level:warning", false)]
    [InlineData("environment:production", true)]
    [InlineData("-environment:production", false)]
    [InlineData("release:9.9", false)]
    [InlineData("m1", true)]
    [InlineData("\"m1\" -m1", false)]
    [InlineData("nothing", false)]
    public void The_filter_speaks_the_search_language(string query, bool matches)
    {
        var stored = new StoredEvent(EventBuilder.Prepare(1, EventBuilder.Message("m1 happened", level: Events.EventLevel.Error)), 1);

        Assert.Equal(matches, LiveFilter.Parse(query, null, DateTimeOffset.UtcNow).Matches(stored));
    }
}
