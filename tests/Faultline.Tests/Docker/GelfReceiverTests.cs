using System.Buffers.Binary;
using System.IO.Compression;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Faultline.Docker;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Docker;

/// <summary>GELF as Docker's gelf driver sends it: UDP gzip (chunked when large), zlib, plain; TCP NUL-delimited. Both engines.</summary>
public abstract class GelfReceiverTests(StoreKind kind) : IAsyncLifetime
{
    private LogReceiverHarness _h = null!;

    public async Task InitializeAsync() =>
        _h = await LogReceiverHarness.StartAsync(kind, null, ("gelf-udp", LogProtocol.GelfUdp), ("gelf-tcp", LogProtocol.GelfTcp));

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private static string Word() => "w" + Guid.NewGuid().ToString("N")[..10];

    public static byte[] Message(string shortMessage, int level = 6, string? key = null, string name = "/web")
    {
        var fields = new Dictionary<string, object?>
        {
            ["version"] = "1.1",
            ["host"] = "dockerhost",
            ["short_message"] = shortMessage,
            ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
            ["level"] = level,
            ["_command"] = "/bin/sh -c run",
            ["_container_id"] = "4f1c2a3b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8",
            ["_container_name"] = name,
            ["_image_id"] = "sha256:0123",
            ["_image_name"] = "shop/web:1.4",
            ["_tag"] = "4f1c2a3b4d5e",
            ["_created"] = "2026-11-25T10:00:00Z",
        };
        if (key is not null)
        {
            fields["_faultline_key"] = key;
        }
        return JsonSerializer.SerializeToUtf8Bytes(fields);
    }

    public static byte[] Gzip(byte[] data, CompressionLevel level = CompressionLevel.Fastest)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, level))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }

    public static byte[] Zlib(byte[] data)
    {
        var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Fastest))
        {
            zlib.Write(data);
        }
        return output.ToArray();
    }

    /// <summary>GELF chunks as Docker's driver cuts them: 12-byte header, then up to <paramref name="size"/> bytes.</summary>
    public static List<byte[]> Chunks(byte[] payload, int size, long id)
    {
        var count = (payload.Length + size - 1) / size;
        var chunks = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            var body = payload.AsSpan(i * size, Math.Min(size, payload.Length - i * size));
            var chunk = new byte[12 + body.Length];
            chunk[0] = 0x1e;
            chunk[1] = 0x0f;
            BinaryPrimitives.WriteInt64BigEndian(chunk.AsSpan(2), id);
            chunk[10] = (byte)i;
            chunk[11] = (byte)count;
            body.CopyTo(chunk.AsSpan(12));
            chunks.Add(chunk);
        }
        return chunks;
    }

    private async Task SendUdpAsync(params byte[][] datagrams)
    {
        using var udp = new UdpClient();
        foreach (var datagram in datagrams)
        {
            await udp.SendAsync(datagram, "127.0.0.1", _h.Port("gelf-udp"));
        }
    }

    [Fact]
    public async Task A_gzip_message_over_udp_is_stored_with_the_container_fields()
    {
        var word = Word();
        await SendUdpAsync(Gzip(Message($"started {word}")));

        var stored = Assert.Single(await _h.WaitForEventsAsync(word));
        Assert.Equal("info", stored.GetProperty("level").GetString());
        Assert.Equal("web", LogReceiverHarness.Tag(stored, "container_name"));
        Assert.Equal("shop/web:1.4", LogReceiverHarness.Tag(stored, "image"));
        Assert.StartsWith("4f1c2a3b4d5e6f70", LogReceiverHarness.Tag(stored, "container_id"));
        Assert.Equal("dockerhost", LogReceiverHarness.Tag(stored, "host"));
        Assert.Equal("gelf", LogReceiverHarness.Tag(stored, "log_source"));
    }

    [Fact]
    public async Task A_chunked_gzip_message_arriving_out_of_order_is_reassembled()
    {
        var word = Word();
        // Random text does not compress: about 6 KB of gzip in 1420-byte chunks, as Docker cuts them.
        var filler = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4500));
        var chunks = Chunks(Gzip(Message($"big {word} {filler}", level: 3)), 1420, Random.Shared.NextInt64());
        Assert.True(chunks.Count >= 4);
        chunks.Reverse();
        await SendUdpAsync([.. chunks]);

        var stored = Assert.Single(await _h.WaitForEventsAsync(word));
        Assert.Equal("error", stored.GetProperty("level").GetString());
        Assert.Contains(filler, stored.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zlib_and_uncompressed_messages_over_udp_are_stored()
    {
        var zlib = Word();
        var plain = Word();
        await SendUdpAsync(Zlib(Message($"zlib {zlib}")), Message($"plain {plain}"));

        await _h.WaitForEventsAsync(zlib);
        await _h.WaitForEventsAsync(plain);
    }

    [Fact]
    public async Task Nul_delimited_messages_over_tcp_are_stored_with_the_key_in_faultline_key()
    {
        var first = Word();
        var second = Word();
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", _h.Port("gelf-tcp"));
        var stream = client.GetStream();
        await stream.WriteAsync((byte[])[.. Message($"one {first}", key: _h.Tenant.PublicKey), 0, .. Message($"two {second}", level: 3), 0]);
        client.Close();

        await _h.WaitForEventsAsync(first);
        Assert.Equal("error", Assert.Single(await _h.WaitForEventsAsync(second)).GetProperty("level").GetString());
    }
}

public sealed class SqliteGelfReceiverTests() : GelfReceiverTests(StoreKind.Sqlite);

public sealed class PostgresGelfReceiverTests() : GelfReceiverTests(StoreKind.Postgres);

/// <summary>Hostile GELF: compression bombs, broken chunks, chunk floods, bad JSON. SQLite only (the receiver does not touch the engine).</summary>
public sealed class HostileGelfTests : IAsyncLifetime
{
    private LogReceiverHarness _h = null!;

    public async Task InitializeAsync() =>
        _h = await LogReceiverHarness.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>
        {
            ["Faultline:Docker:MaxDecompressedBytes"] = "65536",
            ["Faultline:Docker:MaxPendingChunkedMessages"] = "50",
        }, ("gelf-udp", LogProtocol.GelfUdp), ("gelf-tcp", LogProtocol.GelfTcp));

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private async Task SendUdpAsync(params byte[][] datagrams)
    {
        using var udp = new UdpClient();
        foreach (var datagram in datagrams)
        {
            await udp.SendAsync(datagram, "127.0.0.1", _h.Port("gelf-udp"));
        }
    }

    private async Task StillServingAsync()
    {
        var word = "w" + Guid.NewGuid().ToString("N")[..10];
        await SendUdpAsync(GelfReceiverTests.Gzip(GelfReceiverTests.Message($"alive {word}")));
        await _h.WaitForEventsAsync(word);
    }

    [Fact]
    public async Task A_gzip_bomb_over_udp_stops_at_the_decompressed_limit()
    {
        // 20 MB of zeros gzip to about 20 KB: 15 chunks of 1420 bytes.
        var bomb = GelfReceiverTests.Gzip(new byte[20 * 1024 * 1024], CompressionLevel.SmallestSize);
        var chunks = GelfReceiverTests.Chunks(bomb, 1420, 42);
        Assert.True(chunks.Count < 128, $"{chunks.Count} chunks");
        await SendUdpAsync([.. chunks]);
        await SendUdpAsync(GelfReceiverTests.Gzip(new byte[1024 * 1024]));

        await WaitUntilAsync(() => _h.Dropped("decompressed_too_large") >= 2);
        await StillServingAsync();
    }

    [Fact]
    public async Task Broken_compression_bad_json_and_bad_chunk_headers_are_dropped_and_counted()
    {
        var gzip = GelfReceiverTests.Gzip(GelfReceiverTests.Message("cut"));
        byte[] garbage = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        await SendUdpAsync(
            garbage,
            gzip[..(gzip.Length / 2)],
            Encoding.UTF8.GetBytes("{\"short_message\": "),
            Encoding.UTF8.GetBytes("[1,2,3]"),
            Encoding.UTF8.GetBytes(new string('[', 5000)),
            [0x1e, 0x0f, 1, 2, 3],
            [0x1e, 0x0f, 0, 0, 0, 0, 0, 0, 0, 1, 5, 3, 1]);

        await WaitUntilAsync(() => _h.Dropped("bad_compression") + _h.Dropped("malformed") >= 5 && _h.Dropped("bad_chunk") >= 2);
        await StillServingAsync();
    }

    [Fact]
    public async Task A_flood_of_incomplete_chunked_messages_is_bounded()
    {
        // 2000 first chunks that never complete: at most 50 are kept, the rest are evicted and counted.
        var datagrams = Enumerable.Range(0, 2000).Select(i => GelfReceiverTests.Chunks(new byte[3000], 1420, 1000 + i)[0]).ToArray();
        await SendUdpAsync(datagrams);

        await WaitUntilAsync(() => _h.Dropped("chunk_expired") >= 1900);
        await StillServingAsync();
    }

    [Fact]
    public async Task An_endless_tcp_message_is_skipped_and_the_connection_goes_on()
    {
        var word = "w" + Guid.NewGuid().ToString("N")[..10];
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", _h.Port("gelf-tcp"));
        await client.GetStream().WriteAsync((byte[])[.. new byte[200_000].Select(_ => (byte)'a'), 0, .. GelfReceiverTests.Message($"after {word}"), 0]);

        await _h.WaitForEventsAsync(word);
        Assert.True(_h.Dropped("too_large") >= 1);
    }

    private async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"condition not met within 20 s; dropped: {_h.DropSummary}");
            await Task.Delay(50);
        }
    }
}
