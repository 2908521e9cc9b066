using System.Collections.Concurrent;
using System.Threading.Channels;
using Faultline.Pipeline;
using Faultline.Storage;

namespace Faultline.Live;

/// <summary>Publication of committed events to live subscribers (this node's; other nodes' arrive through <see cref="RedisLiveBackplane"/>).</summary>
public interface ILivePublisher
{
    LiveSubscription Subscribe(long projectId, LiveFilter filter);
}

/// <summary>
/// This node's subscribers. The writer hands over each committed batch, and with Redis the
/// backplane hands over other nodes' batches; every subscriber gets a bounded queue, and a slow one
/// loses messages (counted) rather than slowing ingest. The same filter and project scoping apply to
/// both, since both go through <see cref="Deliver"/>.
/// </summary>
public sealed class LiveHub : ILivePublisher, ICommittedBatchObserver
{
    /// <summary>Messages a subscriber may have waiting; beyond that new ones are dropped and counted.</summary>
    public const int SubscriberBuffer = 1000;

    private readonly ConcurrentDictionary<LiveSubscription, byte> _subscriptions = new();

    /// <summary>Open subscriptions on this node (the faultline.live.subscribers gauge).</summary>
    public int SubscriberCount => _subscriptions.Count;

    public LiveSubscription Subscribe(long projectId, LiveFilter filter)
    {
        var subscription = new LiveSubscription(projectId, filter, s => _subscriptions.TryRemove(s, out _));
        _subscriptions[subscription] = 0;
        return subscription;
    }

    /// <summary>Whether anyone on this node listens to the project (the backplane skips decoding the rest).</summary>
    public bool HasSubscribers(long projectId) => _subscriptions.Keys.Any(s => s.ProjectId == projectId);

    public void OnCommitted(BatchWriteResult batch) => Deliver(batch.Stored);

    /// <summary>Offers committed events to the subscribers of their project whose filter they match.</summary>
    public void Deliver(IReadOnlyList<StoredEvent> events)
    {
        if (_subscriptions.IsEmpty)
        {
            return;
        }
        foreach (var stored in events)
        {
            foreach (var subscription in _subscriptions.Keys)
            {
                if (subscription.ProjectId == stored.Event.ProjectId && subscription.Filter.Matches(stored))
                {
                    subscription.Offer(stored);
                }
            }
        }
    }
}

public sealed class LiveSubscription(long projectId, LiveFilter filter, Action<LiveSubscription> onDispose) : IDisposable
{
    private readonly Channel<StoredEvent> _queue = Channel.CreateBounded<StoredEvent>(
        new BoundedChannelOptions(LiveHub.SubscriberBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private long _dropped;

    public long ProjectId { get; } = projectId;
    public LiveFilter Filter { get; } = filter;
    public ChannelReader<StoredEvent> Events => _queue.Reader;

    /// <summary>Messages dropped since the last call, because the subscriber could not keep up.</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    internal void Offer(StoredEvent stored)
    {
        if (!_queue.Writer.TryWrite(stored))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        onDispose(this);
    }
}
