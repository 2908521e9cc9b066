using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;
using Faultline.Events;
using Faultline.Ingest;
using Faultline.Pipeline;
using Microsoft.Extensions.Options;

namespace Faultline.Docker;

/// <summary>
/// Follows the Docker engine's event stream (Docker.DotNet) and turns container failures into error
/// events: <c>die</c> with a non-zero exit code, <c>oom</c>, restart loops and <c>health_status: unhealthy</c>,
/// each with the container's last log lines. Reconnects when the engine goes away and asks for the
/// events it missed (<c>since</c>); event ids derive from the engine event, so a replay is not stored twice.
/// </summary>
public sealed partial class EngineWatcher(
    IOptions<DockerOptions> options,
    IOptions<IngestOptions> ingest,
    ProjectKeyResolver keys,
    IngestPipeline pipeline,
    RecentContainerLines recent,
    LogStreamTracker streams,
    DockerMetrics metrics,
    TimeProvider time,
    ILogger<EngineWatcher> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _starts = new();
    private long _lastEventNanos;

    /// <summary>True while the event stream is open (tests wait for it).</summary>
    public bool Connected { get; private set; }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.Watcher.Endpoint is { Length: > 0 } endpoint ? WatchAsync(endpoint, stoppingToken) : Task.CompletedTask;

    /// <summary>Apart and not inlined: compiling it loads Docker.DotNet, which a server without a Docker endpoint never needs.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task WatchAsync(string endpoint, CancellationToken stoppingToken)
    {
        var events = Channel.CreateBounded<Message>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest });
        var containerEvents = new ContainerEvents(options.Value, ingest.Value);
        var consumer = Task.Run(() => ConsumeAsync(events.Reader), CancellationToken.None);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var configuration = new DockerClientConfiguration(new Uri(endpoint));
                using var client = configuration.CreateClient();
                var parameters = new ContainerEventsParameters
                {
                    Filters = new Dictionary<string, IDictionary<string, bool>> { ["type"] = new Dictionary<string, bool> { ["container"] = true } },
                };
                if (_lastEventNanos > 0)
                {
                    parameters.Since = (_lastEventNanos / 1_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                _client = client;
                Connected = true;
                LogConnected(logger, endpoint);
                await client.System.MonitorEventsAsync(parameters, new ChannelProgress(events.Writer), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogDisconnected(logger, e, endpoint);
            }
            finally
            {
                Connected = false;
                _client = null;
            }
            try
            {
                await Task.Delay(options.Value.Watcher.ReconnectDelay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        events.Writer.TryComplete();
        await consumer;

        async Task ConsumeAsync(ChannelReader<Message> reader)
        {
            await foreach (var message in reader.ReadAllAsync(CancellationToken.None))
            {
                try
                {
                    await HandleAsync(message, containerEvents);
                }
                catch (Exception e)
                {
                    LogEventFailed(logger, e, message.Action);
                }
            }
        }
    }

    private DockerClient? _client;

    private async Task HandleAsync(Message message, ContainerEvents containerEvents)
    {
        _lastEventNanos = Math.Max(_lastEventNanos, message.TimeNano);
        var attributes = message.Actor?.Attributes ?? new Dictionary<string, string>();
        var name = attributes.TryGetValue("name", out var n) ? n : message.Actor?.ID?[..Math.Min(12, message.Actor.ID.Length)] ?? "unknown";
        var id = message.Actor?.ID ?? "";
        var image = attributes.TryGetValue("image", out var i) ? i : null;
        var at = message.TimeNano > 0 ? DateTimeOffset.UnixEpoch.AddTicks(message.TimeNano / 100) : time.GetUtcNow();
        var action = message.Action ?? "";

        (string Title, EventLevel Level, string Kind, string? ExitCode)? failure = null;
        if (action == "die" && attributes.TryGetValue("exitCode", out var exitCode) && exitCode != "0")
        {
            failure = ($"Container {name} exited with code {exitCode}", EventLevel.Error, "container-died", exitCode);
        }
        else if (action == "oom")
        {
            failure = ($"Container {name} ran out of memory", EventLevel.Fatal, "container-oom", null);
        }
        else if (action.StartsWith("health_status", StringComparison.Ordinal) && action.EndsWith("unhealthy", StringComparison.Ordinal))
        {
            failure = ($"Container {name} is unhealthy", EventLevel.Error, "container-unhealthy", null);
        }
        else if (action == "start" && IsRestartLoop(id, at))
        {
            failure = ($"Container {name} is in a restart loop ({options.Value.Watcher.RestartLoopCount} starts within {options.Value.Watcher.RestartWindow})", EventLevel.Error, "container-restart-loop", null);
        }
        if (failure is not { } f)
        {
            return;
        }
        metrics.EngineEvent(action);
        var key = options.Value.Watcher.ProjectKey is { } publicKey ? await keys.ResolveAsync(publicKey, CancellationToken.None) : null;
        if (key is null)
        {
            metrics.Dropped("watcher", "unknown_source");
            return;
        }
        var lastLines = await LastLinesAsync(name, id);
        var text = lastLines.Count == 0 ? f.Title : f.Title + "\n\nLast lines:\n" + string.Join('\n', lastLines);
        var tags = new Dictionary<string, string>
        {
            ["container_name"] = name,
            ["container_id"] = id.Length > 12 ? id[..12] : id,
            ["docker_event"] = f.Kind,
            ["log_source"] = "docker-engine",
        };
        if (image is not null)
        {
            tags["image"] = image.Length > ingest.Value.MaxTagLength ? image[..ingest.Value.MaxTagLength] : image;
        }
        if (f.ExitCode is not null)
        {
            tags["exit_code"] = f.ExitCode;
        }
        if (containerEvents.IsCriticalContainer(name) || streams.IsCritical(key.ProjectId, name))
        {
            tags["critical"] = "true";
        }
        var e = new FaultlineEvent
        {
            // The same engine event always gets the same id: a replay after a reconnect is a duplicate.
            EventId = new Guid(SHA256.HashData(Encoding.UTF8.GetBytes($"{id}|{action}|{message.TimeNano}")).AsSpan(0, 16)),
            Timestamp = at,
            Level = f.Level,
            Message = text.Length > ingest.Value.MaxMessageLength ? text[..ingest.Value.MaxMessageLength] : text,
            Logger = "docker-engine",
            Platform = "other",
            Culprit = name,
            Tags = tags,
            Fingerprint = [f.Kind, name, f.ExitCode ?? ""],
            Extra = Extra(lastLines, attributes),
        };
        for (var attempt = 0; attempt < 30; attempt++)
        {
            try
            {
                await pipeline.IngestAsync(key, [e], time.GetUtcNow(), "docker-engine", CancellationToken.None);
                return;
            }
            catch (Exception ex) when (IngestRejections.IsRejection(ex))
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time);
            }
        }
        metrics.Dropped("watcher", "unavailable");
    }

    private bool IsRestartLoop(string id, DateTimeOffset at)
    {
        var watcher = options.Value.Watcher;
        var starts = _starts.GetOrAdd(id, _ => new Queue<DateTimeOffset>());
        starts.Enqueue(at);
        while (starts.Count > 0 && at - starts.Peek() > watcher.RestartWindow)
        {
            starts.Dequeue();
        }
        if (starts.Count < watcher.RestartLoopCount)
        {
            return false;
        }
        starts.Clear(); // one event per loop detected, not one per further start
        return true;
    }

    /// <summary>The receivers' recent lines of the container, or else the engine's own log (Docker 20.10+ keeps a local copy for any driver).</summary>
    private async Task<IReadOnlyList<string>> LastLinesAsync(string name, string id)
    {
        var lines = recent.For(name, id);
        if (lines.Count > 0 || _client is not { } client || id.Length == 0)
        {
            return lines;
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            var tail = options.Value.RecentLinesPerContainer.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using var stream = await client.Containers.GetContainerLogsAsync(id, false,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = tail }, timeout.Token);
            var (stdout, stderr) = await stream.ReadOutputToEndAsync(timeout.Token);
            return [.. (stdout + stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
        }
        catch (Exception e) when (e is DockerApiException or OperationCanceledException or IOException or HttpRequestException)
        {
            return [];
        }
    }

    private static JsonElement Extra(IReadOnlyList<string> lastLines, IDictionary<string, string> attributes)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("last_lines");
            foreach (var line in lastLines)
            {
                writer.WriteStringValue(line);
            }
            writer.WriteEndArray();
            writer.WriteStartObject("docker_attributes");
            foreach (var (k, v) in attributes.Take(50))
            {
                writer.WriteString(k, v.Length > 500 ? v[..500] : v);
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }

    /// <summary>Hands each engine event to the consumer in order (Progress&lt;T&gt; would post them to the thread pool unordered).</summary>
    private sealed class ChannelProgress(ChannelWriter<Message> writer) : IProgress<Message>
    {
        public void Report(Message value) => writer.TryWrite(value);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Docker watcher connected to {Endpoint}")]
    private static partial void LogConnected(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Docker watcher lost the engine at {Endpoint}; reconnecting")]
    private static partial void LogDisconnected(ILogger logger, Exception exception, string endpoint);

    [LoggerMessage(Level = LogLevel.Error, Message = "Docker watcher could not handle a {Action} event")]
    private static partial void LogEventFailed(ILogger logger, Exception exception, string? action);
}
