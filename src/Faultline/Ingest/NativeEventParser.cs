using System.Globalization;
using System.Text.Json;

namespace Faultline.Ingest;

/// <summary>
/// Splits a native request body into events: one JSON object, a JSON array of objects, or several
/// objects one after another (NDJSON). Enforces the per-event size, count and nesting limits.
/// </summary>
public static class NativeEventParser
{
    /// <summary>Parsed documents; the caller disposes them after normalising.</summary>
    public static List<JsonDocument> Parse(ReadOnlySpan<byte> body, IngestOptions options)
    {
        // The JSON reader checks string contents only when they are read; a bad byte must be a 400, not a crash later.
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            throw IngestRejectedException.Malformed("The body is not valid UTF-8.");
        }
        var documents = new List<JsonDocument>();
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions
            {
                AllowMultipleValues = true,
                MaxDepth = options.MaxJsonDepth,
                CommentHandling = JsonCommentHandling.Skip,
            });
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        documents.Add(ParseOne(ref reader, documents.Count, options));
                        break;
                    case JsonTokenType.StartArray:
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        {
                            if (reader.TokenType != JsonTokenType.StartObject)
                            {
                                throw new EventValidationException(Path(documents.Count), "an event must be a JSON object");
                            }
                            documents.Add(ParseOne(ref reader, documents.Count, options));
                        }
                        break;
                    default:
                        throw IngestRejectedException.Malformed("The body must be a JSON event object, an array of events, or NDJSON.");
                }
            }
            if (documents.Count == 0)
            {
                throw IngestRejectedException.Malformed("The body holds no events.");
            }
            return documents;
        }
        catch (JsonException e)
        {
            DisposeAll(documents);
            var where = e.LineNumber is { } line
                ? $" at line {(line + 1).ToString(CultureInfo.InvariantCulture)}, byte {(e.BytePositionInLine ?? 0).ToString(CultureInfo.InvariantCulture)}"
                : string.Empty;
            throw IngestRejectedException.Malformed($"The body is not valid JSON{where}: {FirstSentence(e.Message)}");
        }
        catch
        {
            DisposeAll(documents);
            throw;
        }
    }

    private static JsonDocument ParseOne(ref Utf8JsonReader reader, int index, IngestOptions options)
    {
        if (index >= options.MaxEventsPerRequest)
        {
            throw IngestRejectedException.TooLarge($"A request may hold at most {options.MaxEventsPerRequest} events.");
        }
        var start = reader.TokenStartIndex;
        var document = JsonDocument.ParseValue(ref reader);
        if (reader.BytesConsumed - start > options.MaxEventBytes)
        {
            document.Dispose();
            throw IngestRejectedException.TooLarge($"{Path(index)} is {reader.BytesConsumed - start} bytes; one event may be at most {options.MaxEventBytes}.");
        }
        return document;
    }

    public static string Path(int index) => $"events[{index.ToString(CultureInfo.InvariantCulture)}]";

    public static void DisposeAll(IEnumerable<JsonDocument> documents)
    {
        foreach (var document in documents)
        {
            document.Dispose();
        }
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}
