using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Faultline.Events;

namespace Faultline.Retention;

/// <summary>
/// The archive layout: per project and UTC day, numbered parts of gzip-compressed NDJSON (one event
/// row per line, tags and payload as JSON objects) each with a JSON manifest beside it.
/// </summary>
public static class ArchiveFormat
{
    /// <summary>Bumped when a line's fields change meaning; restore reads every version it knows.</summary>
    public const int SchemaVersion = 1;

    public const string ObjectFormat = "ndjson+gzip";

    public static (string ObjectKey, string ManifestKey) Keys(long projectId, DateOnly day, int sequence)
    {
        var folder = string.Create(CultureInfo.InvariantCulture, $"events/project={projectId}/day={day:yyyy-MM-dd}/part-{sequence:0000}");
        return (folder + ".ndjson.gz", folder + ".manifest.json");
    }

    /// <summary>Writes the events as gzip NDJSON to <paramref name="destination"/>; returns the counts (SHA-256 is added by the caller over the stored bytes).</summary>
    public static async Task<(long Events, long UncompressedBytes)> WriteAsync(Stream destination, Func<Func<ArchivedEvent, ValueTask>, Task> source, CancellationToken cancellationToken)
    {
        long events = 0;
        var counting = new CountingStream(new GZipStream(destination, CompressionLevel.Fastest, leaveOpen: true));
        await using (counting)
        {
            var buffer = new MemoryStream();
            await source(async e =>
            {
                buffer.SetLength(0);
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    WriteLine(writer, e);
                }
                buffer.WriteByte((byte)'\n');
                await counting.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken);
                events++;
            });
        }
        return (events, counting.Written);
    }

    private static void WriteLine(Utf8JsonWriter writer, ArchivedEvent e)
    {
        writer.WriteStartObject();
        writer.WriteString("event_id", e.EventId.ToString("N"));
        writer.WriteNumber("project_id", e.ProjectId);
        writer.WriteNumber("issue_id", e.IssueId);
        writer.WriteString("received_at", e.ReceivedAt.ToUniversalTime());
        writer.WriteString("timestamp", e.Timestamp.ToUniversalTime());
        writer.WriteString("level", e.Level.ToWire());
        WriteOptional(writer, "environment", e.Environment);
        WriteOptional(writer, "release", e.Release);
        WriteOptional(writer, "logger", e.Logger);
        WriteOptional(writer, "message", e.Message);
        WriteOptional(writer, "exception_type", e.ExceptionType);
        WriteOptional(writer, "exception_value", e.ExceptionValue);
        writer.WritePropertyName("tags");
        writer.WriteRawValue(e.Tags);
        writer.WritePropertyName("payload");
        writer.WriteRawValue(e.Payload);
        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>Reads the events of a decompressed object, line by line.</summary>
    public static async IAsyncEnumerable<ArchivedEvent> ReadAsync(Stream compressed, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            yield return ParseLine(line);
        }
    }

    private static ArchivedEvent ParseLine(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        string? Optional(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        EventLevels.TryParse(root.GetProperty("level").GetString(), out var level);
        return new ArchivedEvent(
            Guid.ParseExact(root.GetProperty("event_id").GetString()!, "N"),
            root.GetProperty("project_id").GetInt64(),
            root.GetProperty("issue_id").GetInt64(),
            root.GetProperty("received_at").GetDateTimeOffset(),
            root.GetProperty("timestamp").GetDateTimeOffset(),
            level,
            Optional("environment"), Optional("release"), Optional("logger"), Optional("message"),
            Optional("exception_type"), Optional("exception_value"),
            root.GetProperty("tags").GetRawText(),
            root.GetProperty("payload").GetRawText());
    }

    public static async Task<string> Sha256HexAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var sha = SHA256.Create();
        var hash = await sha.ComputeHashAsync(stream, cancellationToken);
        return Convert.ToHexStringLower(hash);
    }

    public static byte[] SerializeManifest(ArchiveManifest manifest) =>
        JsonSerializer.SerializeToUtf8Bytes(manifest, ArchiveJsonContext.Default.ArchiveManifest);

    public static ArchiveManifest? DeserializeManifest(byte[] json) =>
        JsonSerializer.Deserialize(json, ArchiveJsonContext.Default.ArchiveManifest);

    /// <summary>Counts what passes through to the inner stream (the uncompressed size).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Written += count;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            Written += buffer.Length;
        }

        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}

/// <summary>Written beside each archive object; enough to check the object without the database.</summary>
public sealed record ArchiveManifest(
    int SchemaVersion,
    long ProjectId,
    string Day,
    int Sequence,
    DateTimeOffset CreatedAt,
    IReadOnlyList<ArchiveManifestObject> Objects);

public sealed record ArchiveManifestObject(string Key, string Format, long Events, long UncompressedBytes, long Bytes, string Sha256);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(ArchiveManifest))]
internal sealed partial class ArchiveJsonContext : JsonSerializerContext;
