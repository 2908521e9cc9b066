using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text;
using Faultline.Operations;
using Faultline.Pipeline;
using Faultline.Search;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Faultline.Tests.Pipeline;

/// <summary>Shutdown drains the writer: every event a client saw acknowledged (202) is in the database afterwards.</summary>
public abstract class WriterDrainTests(StoreKind kind, ITestOutputHelper output)
{
    private const int Requests = 200;
    private const int EventsPerRequest = 5;

    [Fact]
    public async Task A_graceful_stop_during_heavy_ingest_loses_no_acknowledged_event()
    {
        await using var app = await FaultlineApp.StartAsync(kind, new Dictionary<string, string?>
        {
            ["Faultline:Ingest:RateLimit:EventsPerSecond"] = "1000000",
            ["Faultline:Ingest:RateLimit:Burst"] = "1000000",
            // Small batches, so several commits are still queued when the stop comes.
            ["Faultline:Pipeline:MaxBatchEvents"] = "50",
        });
        var tenant = await app.CreateTenantAsync("drain");
        var client = app.IngestClient(tenant.PublicKey);
        var acknowledged = new ConcurrentBag<Guid>();
        var sent = new ConcurrentBag<Guid>();
        var statuses = new ConcurrentBag<int>();
        var firstAcknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task SendAsync(int request)
        {
            var ids = Enumerable.Range(0, EventsPerRequest).Select(_ => Guid.NewGuid()).ToList();
            foreach (var id in ids)
            {
                sent.Add(id);
            }
            var body = "[" + string.Join(",", ids.Select((id, i) =>
                $$"""{"event_id":"{{id:N}}","message":"drain {{request.ToString(CultureInfo.InvariantCulture)}}.{{i.ToString(CultureInfo.InvariantCulture)}}"}""")) + "]";
            try
            {
                using var response = await client.PostAsync("/api/v1/events", new StringContent(body, Encoding.UTF8, "application/json"));
                statuses.Add((int)response.StatusCode);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    foreach (var id in ids)
                    {
                        acknowledged.Add(id);
                    }
                    firstAcknowledged.TrySetResult();
                }
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                // Not acknowledged: the client would retry.
            }
        }

        var inFlight = Enumerable.Range(0, Requests).Select(i => Task.Run(() => SendAsync(i))).ToList();
        await firstAcknowledged.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var outstandingAtStop = inFlight.Count(t => !t.IsCompleted);
        // The host's graceful stop: hosted services' StopAsync, the writer's among them. The app (and so
        // the database) lives until the end of the test. Program's RunAsync disposes the services once
        // stopped, so a few responses still being written become 500s: not acknowledged, which is allowed.
        await app.Services.GetRequiredService<IHost>().StopAsync(TimeSpan.FromSeconds(30));
        await Task.WhenAll(inFlight).WaitAsync(TimeSpan.FromSeconds(60));

        output.WriteLine(FormattableString.Invariant($"{kind}: {outstandingAtStop} of {Requests} requests in flight at stop; {acknowledged.Count / EventsPerRequest} acknowledged; statuses {string.Join(", ", statuses.GroupBy(x => x).Select(g => $"{g.Key}x{g.Count()}"))}."));
        Assert.True(outstandingAtStop > 0, "Every request had finished before the stop; the test proved nothing.");
        Assert.NotEmpty(acknowledged);
        var stored = await StoredEventIdsAsync(app.Database, tenant.ProjectId);
        var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
        Assert.True(lost.Count == 0,
            $"{lost.Count} of {acknowledged.Count} acknowledged events are not stored ({outstandingAtStop} requests in flight at stop), e.g. {lost.FirstOrDefault():N}");
        Assert.Subset(sent.ToHashSet(), stored);
    }

    private static async Task<HashSet<Guid>> StoredEventIdsAsync(TestDatabase database, long projectId)
    {
        var store = await database.OpenStoreAsync();
        var ids = new HashSet<Guid>();
        string? cursor = null;
        do
        {
            var page = await store.ListEventsAsync(projectId, new EventListRequest(SearchQuery.Empty, null, 500, cursor), CancellationToken.None);
            ids.UnionWith(page.Items.Select(e => e.EventId));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return ids;
    }
}

public sealed class SqliteWriterDrainTests(ITestOutputHelper output) : WriterDrainTests(StoreKind.Sqlite, output);

public sealed class PostgresWriterDrainTests(ITestOutputHelper output) : WriterDrainTests(StoreKind.Postgres, output);

/// <summary>The writer's batching, retry and stop rules, against a store that can be made to fail or wait.</summary>
public sealed class EventWriterTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    private EventWriter Writer(IEventStore store, int maxBatchEvents = 2_000) => new(
        store,
        [],
        Options.Create(new PipelineOptions { MaxBatchEvents = maxBatchEvents }),
        new FaultlineMetrics(_services.GetRequiredService<IMeterFactory>()),
        NullLogger<EventWriter>.Instance);

    private static List<PreparedEvent> Events(string message, int count = 2) =>
        Enumerable.Range(0, count).Select(_ => EventBuilder.Prepare(1, EventBuilder.Message(message))).ToList();

    [Fact]
    public async Task A_failed_batch_is_retried_request_by_request_so_only_the_poison_request_fails()
    {
        var store = new FakeEventStore { Poison = "poison" };
        var writer = Writer(store);
        // Queued before the writer starts, so all four land in one batch.
        var good = new[] { Events("one"), Events("two"), Events("three") };
        var goodWrites = good.Select(events => writer.WriteAsync(events, CancellationToken.None)).ToList();
        var poisonWrite = writer.WriteAsync(Events("poison"), CancellationToken.None);

        await writer.StartAsync(CancellationToken.None);
        var results = await Task.WhenAll(goodWrites).WaitAsync(TimeSpan.FromSeconds(10));
        var failure = await Assert.ThrowsAsync<WriterUnavailableException>(() => poisonWrite.WaitAsync(TimeSpan.FromSeconds(10)));
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal(8, store.Batches[0].Count);
        Assert.Equal([2, 2, 2, 2], store.Batches.Skip(1).Select(b => b.Count));
        Assert.Equal(good.SelectMany(e => e).Select(e => e.Event.EventId).Order(), store.Committed.Select(s => s.Event.Event.EventId).Order());
        for (var i = 0; i < good.Length; i++)
        {
            Assert.Equal(good[i].Select(e => e.Event.EventId), results[i].Stored.Select(s => s.Event.Event.EventId));
        }
        Assert.IsType<InvalidOperationException>(failure.InnerException);
    }

    [Fact]
    public async Task After_stop_a_write_is_refused_as_unavailable()
    {
        var writer = Writer(new FakeEventStore());
        await writer.StartAsync(CancellationToken.None);
        await writer.StopAsync(CancellationToken.None);

        await Assert.ThrowsAsync<WriterUnavailableException>(() => writer.WriteAsync(Events("late"), CancellationToken.None));
    }

    [Fact]
    public async Task Requests_queued_when_the_stop_comes_are_all_committed_before_stop_returns()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = new FakeEventStore { Gate = gate.Task };
        var writer = Writer(store, maxBatchEvents: 4);
        await writer.StartAsync(CancellationToken.None);
        var requests = Enumerable.Range(0, 10).Select(i => Events("queued " + i.ToString(CultureInfo.InvariantCulture))).ToList();
        var writes = new List<Task<BatchWriteResult>> { writer.WriteAsync(requests[0], CancellationToken.None) };
        await store.FirstWriteStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        writes.AddRange(requests.Skip(1).Select(events => writer.WriteAsync(events, CancellationToken.None)));

        var stopping = writer.StopAsync(CancellationToken.None);
        Assert.False(stopping.IsCompleted, "Stop returned while a commit was still running.");
        gate.SetResult();
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        var committedAtStop = store.Committed.Select(s => s.Event.Event.EventId).Order().ToList();
        // Completions run asynchronously, so a caller may resume just after stop returns; none fails.
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(requests.SelectMany(e => e).Select(e => e.Event.EventId).Order(), committedAtStop);
        Assert.True(store.Batches.Count > 2, "The queued requests were expected to take several batches of at most four events.");
    }

    private sealed class FakeEventStore : IEventStore
    {
        public int MaxConcurrentBatches => 1;
        public string? Poison { get; init; }
        public Task Gate { get; init; } = Task.CompletedTask;
        public TaskCompletionSource FirstWriteStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public List<IReadOnlyList<PreparedEvent>> Batches { get; } = [];
        public List<StoredEvent> Committed { get; } = [];

        public async Task<BatchWriteResult> WriteBatchAsync(IReadOnlyList<PreparedEvent> events, CancellationToken cancellationToken)
        {
            Batches.Add(events.ToList());
            FirstWriteStarted.TrySetResult();
            await Task.Yield();
            await Gate;
            if (Poison is not null && events.Any(e => e.Event.Message == Poison))
            {
                throw new InvalidOperationException("The store refused the batch.");
            }
            var stored = events.Select(e => new StoredEvent(e, 1)).ToList();
            Committed.AddRange(stored);
            return new BatchWriteResult(stored, []);
        }
    }
}
