using System.Text.Json;

namespace Faultline.Ingest.Sentry;

internal sealed record EnvelopeHeader(Guid? EventId, string? Dsn);

/// <summary>The event payloads of an envelope, and how many items of each other type were skipped.</summary>
internal sealed record EnvelopeItems(List<byte[]> Events, Dictionary<string, int> Skipped);

/// <summary>
/// Sentry's envelope format: a header line, then items, each a header line and a payload. A payload
/// with a length is exactly that many bytes (binary allowed); without one it runs to the next
/// newline. Only event items are kept; everything else is skipped without being buffered.
/// </summary>
internal static class EnvelopeParser
{
    /// <summary>Header lines hold a few small fields; a long one is hostile or broken.</summary>
    public const int MaxHeaderLineBytes = 64 * 1024;

    // Item types the SDKs send today; anything else is counted as "other" so metrics stay bounded.
    private static readonly HashSet<string> KnownTypes =
    [
        "transaction", "session", "sessions", "client_report", "attachment", "check_in", "log", "span",
        "profile", "profile_chunk", "replay_event", "replay_recording", "replay_video", "feedback", "user_report", "statsd", "metric_buckets",
    ];

    public static async Task<EnvelopeHeader> ReadHeaderAsync(EnvelopeReader reader, IngestOptions options, CancellationToken cancellationToken)
    {
        var line = await reader.ReadLineAsync(MaxHeaderLineBytes, "envelope header", cancellationToken)
            ?? throw IngestRejectedException.Malformed("The envelope is empty.");
        using var header = ParseHeader(line, "envelope header", options);
        var root = header.RootElement;
        Guid? eventId = root.TryGetProperty("event_id", out var id) && id.ValueKind == JsonValueKind.String
            && (Guid.TryParseExact(id.GetString(), "N", out var parsed) || Guid.TryParseExact(id.GetString(), "D", out parsed))
            ? parsed : null;
        var dsn = root.TryGetProperty("dsn", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        return new EnvelopeHeader(eventId, dsn);
    }

    public static async Task<EnvelopeItems> ReadItemsAsync(EnvelopeReader reader, IngestOptions options, CancellationToken cancellationToken)
    {
        var items = new EnvelopeItems([], new Dictionary<string, int>(StringComparer.Ordinal));
        while (await reader.ReadLineAsync(MaxHeaderLineBytes, "item header", cancellationToken) is { } line)
        {
            if (line.AsSpan().Trim((byte)' ').Length == 0)
            {
                continue; // a blank line between items (or a trailing one) carries nothing
            }
            var (type, length) = ReadItemHeader(line, options);
            if (type is "event" or "error")
            {
                if (items.Events.Count >= options.MaxEventsPerRequest)
                {
                    throw IngestRejectedException.TooLarge($"An envelope may hold at most {options.MaxEventsPerRequest} events.");
                }
                items.Events.Add(await ReadEventPayloadAsync(reader, length, options, cancellationToken));
                continue;
            }
            var name = KnownTypes.Contains(type) ? type : "other";
            items.Skipped[name] = items.Skipped.GetValueOrDefault(name) + 1;
            if (length is { } skip)
            {
                await reader.SkipAsync(skip, cancellationToken);
                await reader.ExpectItemEndAsync(cancellationToken);
            }
            else
            {
                await reader.SkipLineAsync(cancellationToken);
            }
        }
        return items;
    }

    private static async Task<byte[]> ReadEventPayloadAsync(EnvelopeReader reader, long? length, IngestOptions options, CancellationToken cancellationToken)
    {
        if (length is { } exact)
        {
            if (exact > options.MaxEventBytes)
            {
                throw IngestRejectedException.TooLarge($"An event item is {exact} bytes; the limit is {options.MaxEventBytes}.");
            }
            var payload = await reader.ReadExactlyAsync((int)exact, cancellationToken);
            await reader.ExpectItemEndAsync(cancellationToken);
            return payload;
        }
        return await reader.ReadLineAsync(options.MaxEventBytes, "event item", cancellationToken)
            ?? throw IngestRejectedException.Malformed("An event item has no payload.");
    }

    private static (string Type, long? Length) ReadItemHeader(byte[] line, IngestOptions options)
    {
        using var header = ParseHeader(line, "item header", options);
        var root = header.RootElement;
        if (!root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(type.GetString()))
        {
            throw IngestRejectedException.Malformed("An item header has no type.");
        }
        long? length = null;
        if (root.TryGetProperty("length", out var value) && value.ValueKind != JsonValueKind.Null)
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var parsed) || parsed < 0)
            {
                throw IngestRejectedException.Malformed("An item's length must be a non-negative integer.");
            }
            length = parsed;
        }
        return (type.GetString()!, length);
    }

    private static JsonDocument ParseHeader(byte[] line, string what, IngestOptions options)
    {
        try
        {
            var document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = Math.Min(options.MaxJsonDepth, 16) });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw IngestRejectedException.Malformed($"The {what} must be a JSON object.");
            }
            return document;
        }
        catch (JsonException)
        {
            throw IngestRejectedException.Malformed($"The {what} is not valid JSON.");
        }
    }
}
