using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json;

namespace Faultline.Docker;

/// <summary>
/// GELF 1.1 messages as Docker's gelf driver sends them: JSON, over UDP gzip- or zlib-compressed and
/// chunked, over TCP plain and NUL-delimited. Container fields come from _container_id,
/// _container_name, _image_name, _command and _tag.
/// </summary>
public static class GelfParser
{
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 16 };

    public static bool IsChunk(ReadOnlySpan<byte> datagram) => datagram.Length >= 2 && datagram[0] == 0x1e && datagram[1] == 0x0f;

    /// <summary>Inflates a gzip or zlib payload, stopping at <paramref name="maxBytes"/>; a plain payload is returned as is.</summary>
    public static byte[]? Decompress(byte[] payload, int length, int maxBytes, out string? reason)
    {
        reason = null;
        Stream? inflater = null;
        var source = new MemoryStream(payload, 0, length, writable: false);
        if (length >= 2 && payload[0] == 0x1f && payload[1] == 0x8b)
        {
            inflater = new GZipStream(source, CompressionMode.Decompress);
        }
        else if (length >= 2 && payload[0] == 0x78 && (payload[0] * 256 + payload[1]) % 31 == 0)
        {
            inflater = new ZLibStream(source, CompressionMode.Decompress);
        }
        if (inflater is null)
        {
            return payload.AsSpan(0, length).ToArray();
        }
        using (inflater)
        {
            var output = new MemoryStream();
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = inflater.Read(buffer, 0, buffer.Length)) > 0)
                {
                    if (output.Length + read > maxBytes)
                    {
                        reason = "decompressed_too_large";
                        return null;
                    }
                    output.Write(buffer, 0, read);
                }
            }
            catch (InvalidDataException)
            {
                reason = "bad_compression";
                return null;
            }
            return output.ToArray();
        }
    }

    public static ContainerLogLine? Parse(ReadOnlySpan<byte> json, out string? reason)
    {
        reason = null;
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = JsonOptions.MaxDepth });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            reason = "malformed";
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || String(root, "short_message") is not { } shortMessage)
            {
                reason = "malformed";
                return null;
            }
            var full = String(root, "full_message");
            DateTimeOffset? at = root.TryGetProperty("timestamp", out var ts) && ts.ValueKind == JsonValueKind.Number && ts.TryGetDouble(out var seconds)
                && seconds is > 0 and < 253402300799
                ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000))
                : null;
            int? level = root.TryGetProperty("level", out var l) && l.ValueKind == JsonValueKind.Number && l.TryGetInt32(out var lv) && lv is >= 0 and <= 7 ? lv : null;
            return new ContainerLogLine
            {
                Message = full is { Length: > 0 } && full.Length > shortMessage.Length ? full : shortMessage,
                Severity = level,
                Timestamp = at,
                Host = String(root, "host"),
                ContainerId = String(root, "_container_id"),
                ContainerName = String(root, "_container_name")?.TrimStart('/'),
                Image = String(root, "_image_name"),
                Command = String(root, "_command"),
                Tag = String(root, "_tag"),
                ProjectKey = KeyField(root),
            };
        }
    }

    /// <summary>_faultline_key, in any case: Docker's env/labels options pass names as written.</summary>
    private static string? KeyField(JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (property.NameEquals("_faultline_key") || string.Equals(property.Name, "_faultline_key", StringComparison.OrdinalIgnoreCase))
            {
                return property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
            }
        }
        return null;
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The GELF chunk header: magic, message id, sequence number and count.</summary>
    public static bool TryReadChunkHeader(ReadOnlySpan<byte> datagram, out long messageId, out int sequence, out int count)
    {
        messageId = 0;
        sequence = count = 0;
        if (datagram.Length < 12 || !IsChunk(datagram))
        {
            return false;
        }
        messageId = BinaryPrimitives.ReadInt64BigEndian(datagram[2..10]);
        sequence = datagram[10];
        count = datagram[11];
        // The spec caps a message at 128 chunks.
        return count is >= 1 and <= 128 && sequence < count;
    }
}

/// <summary>
/// Reassembles chunked GELF messages with bounded memory: at most <c>maxPending</c> messages, each at
/// most <c>maxMessageBytes</c>, each dropped if not complete within the expiry. Used by one receive loop.
/// </summary>
public sealed class GelfChunkAssembler(int maxPending, int maxMessageBytes, TimeSpan expiry, TimeProvider time)
{
    private readonly Dictionary<long, Partial> _pending = [];
    private readonly LinkedList<long> _arrival = new();

    public int PendingCount => _pending.Count;

    /// <returns>The whole message once its last chunk arrived; null otherwise (then <paramref name="dropped"/> may name a reason).</returns>
    public byte[]? Add(ReadOnlySpan<byte> datagram, out string? dropped, out int expired)
    {
        dropped = null;
        var now = time.GetUtcNow();
        expired = Expire(now);
        if (!GelfParser.TryReadChunkHeader(datagram, out var id, out var sequence, out var count))
        {
            dropped = "bad_chunk";
            return null;
        }
        var body = datagram[12..];
        if (!_pending.TryGetValue(id, out var partial))
        {
            if (count == 1)
            {
                return body.ToArray();
            }
            if (_pending.Count >= maxPending)
            {
                // Evict the oldest: a flood of first chunks cannot pin memory or block the receiver.
                var oldest = _arrival.First!.Value;
                _arrival.RemoveFirst();
                _pending.Remove(oldest);
                expired++;
            }
            partial = new Partial(count, now, _arrival.AddLast(id));
            _pending[id] = partial;
        }
        if (partial.Chunks.Length != count)
        {
            Remove(id, partial);
            dropped = "bad_chunk";
            return null;
        }
        if (partial.Chunks[sequence] is not null)
        {
            return null; // a repeated chunk
        }
        partial.Bytes += body.Length;
        if (partial.Bytes > maxMessageBytes)
        {
            Remove(id, partial);
            dropped = "too_large";
            return null;
        }
        partial.Chunks[sequence] = body.ToArray();
        if (++partial.Received < count)
        {
            return null;
        }
        Remove(id, partial);
        var whole = new byte[partial.Bytes];
        var offset = 0;
        foreach (var chunk in partial.Chunks)
        {
            chunk!.CopyTo(whole, offset);
            offset += chunk!.Length;
        }
        return whole;
    }

    private int Expire(DateTimeOffset now)
    {
        var expired = 0;
        while (_arrival.First is { } first && _pending.TryGetValue(first.Value, out var partial) && now - partial.FirstAt >= expiry)
        {
            Remove(first.Value, partial);
            expired++;
        }
        return expired;
    }

    private void Remove(long id, Partial partial)
    {
        _pending.Remove(id);
        _arrival.Remove(partial.Node);
    }

    private sealed class Partial(int count, DateTimeOffset firstAt, LinkedListNode<long> node)
    {
        public byte[]?[] Chunks { get; } = new byte[]?[count];
        public DateTimeOffset FirstAt { get; } = firstAt;
        public LinkedListNode<long> Node { get; } = node;
        public int Received { get; set; }
        public int Bytes { get; set; }
    }
}
