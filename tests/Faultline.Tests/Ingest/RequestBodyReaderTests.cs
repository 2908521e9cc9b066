using System.IO.Compression;
using System.Text;
using Faultline.Ingest;
using Microsoft.AspNetCore.Http;

namespace Faultline.Tests.Ingest;

public class RequestBodyReaderTests
{
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes(
        string.Concat(Enumerable.Repeat("{\"message\": \"Order 17 could not be saved\", \"level\": \"error\"}\n", 200)));

    private static HttpRequest Request(Stream body, string? encoding = null, long? contentLength = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = body;
        if (encoding is not null)
        {
            context.Request.Headers.ContentEncoding = encoding;
        }
        context.Request.ContentLength = contentLength;
        return context.Request;
    }

    private static HttpRequest Request(byte[] body, string? encoding = null) => Request(new MemoryStream(body), encoding, body.Length);

    private static Task<byte[]> Read(HttpRequest request, IngestOptions? options = null) =>
        RequestBodyReader.ReadAsync(request, options ?? new IngestOptions(), CancellationToken.None);

    private static byte[] Compress(byte[] data, Func<Stream, Stream> compressor)
    {
        var output = new MemoryStream();
        using (var stream = compressor(output))
        {
            stream.Write(data);
        }
        return output.ToArray();
    }

    private static byte[] Gzip(byte[] data) => Compress(data, s => new GZipStream(s, CompressionLevel.Optimal, leaveOpen: true));

    /// <summary>Megabytes of zeros, compressed, followed by incompressible bytes so the body is larger than any read buffer.</summary>
    private static byte[] Bomb(int megabytes, Func<Stream, Stream> compressor, int randomTailBytes = 0)
    {
        var zeros = new byte[1024 * 1024];
        var tail = new byte[randomTailBytes];
        new Random(42).NextBytes(tail);
        var output = new MemoryStream();
        using (var stream = compressor(output))
        {
            for (var i = 0; i < megabytes; i++)
            {
                stream.Write(zeros);
            }
            stream.Write(tail);
        }
        return output.ToArray();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("identity")]
    public async Task An_uncompressed_body_is_read_as_is(string? encoding)
    {
        var body = await Read(Request(new MemoryStream(Payload), encoding, Payload.Length));

        Assert.Equal(Payload, body);
    }

    [Fact]
    public async Task An_uncompressed_body_without_content_length_is_read()
    {
        var body = await Read(Request(new MemoryStream(Payload)));

        Assert.Equal(Payload, body);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("x-gzip")]
    [InlineData("GZIP")]
    [InlineData(" gzip ")]
    public async Task A_gzip_body_is_decoded(string encoding)
    {
        var compressed = Gzip(Payload);

        var body = await Read(Request(compressed, encoding));

        Assert.True(compressed.Length < Payload.Length);
        Assert.Equal(Payload, body);
    }

    [Fact]
    public async Task A_deflate_body_is_decoded_as_zlib()
    {
        var compressed = Compress(Payload, s => new ZLibStream(s, CompressionLevel.Optimal, leaveOpen: true));

        var body = await Read(Request(compressed, "deflate"));

        Assert.Equal(Payload, body);
    }

    [Fact]
    public async Task A_brotli_body_is_decoded()
    {
        var compressed = Compress(Payload, s => new BrotliStream(s, CompressionLevel.Optimal, leaveOpen: true));

        var body = await Read(Request(compressed, "br"));

        Assert.Equal(Payload, body);
    }

    [Fact]
    public async Task A_chunked_gzip_body_without_content_length_is_decoded()
    {
        var body = await Read(Request(new MemoryStream(Gzip(Payload)), "gzip"));

        Assert.Equal(Payload, body);
    }

    [Theory]
    [InlineData("compress")]
    [InlineData("gzip, br")]
    [InlineData("lzma")]
    public async Task An_unknown_encoding_is_rejected_with_415(string encoding)
    {
        var error = await Assert.ThrowsAsync<IngestRejectedException>(() => Read(Request(Payload, encoding)));

        Assert.Equal(415, error.StatusCode);
        Assert.Equal("unsupported_encoding", error.Reason);
    }

    [Fact]
    public async Task A_corrupt_gzip_body_is_rejected_with_400()
    {
        var error = await Assert.ThrowsAsync<IngestRejectedException>(() => Read(Request(Payload, "gzip")));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("malformed", error.Reason);
    }

    [Fact]
    public async Task A_gzip_body_with_damaged_data_is_rejected_with_400()
    {
        var compressed = Gzip(Payload);
        // Keep the gzip header, scramble the deflate data behind it.
        for (var i = 10; i < compressed.Length - 8; i++)
        {
            compressed[i] = 0xFF;
        }

        var error = await Assert.ThrowsAsync<IngestRejectedException>(() => Read(Request(compressed, "gzip")));

        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public async Task A_corrupt_brotli_body_is_rejected_with_400()
    {
        var error = await Assert.ThrowsAsync<IngestRejectedException>(() => Read(Request(Payload, "br")));

        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public async Task A_content_length_over_the_limit_is_rejected_with_413_without_reading()
    {
        var options = new IngestOptions { MaxCompressedBodyBytes = 4096 };
        var body = new CountingStream(new MemoryStream(Payload));

        var error = await Assert.ThrowsAsync<IngestRejectedException>(() => Read(Request(body, contentLength: 4097), options));

        Assert.Equal(413, error.StatusCode);
        Assert.Equal("too_large", error.Reason);
        Assert.Equal(0, body.BytesRead);
    }

    [Fact]
    public async Task A_body_exactly_at_the_compressed_limit_is_read()
    {
        var options = new IngestOptions { MaxCompressedBodyBytes = Payload.Length };

        var body = await Read(Request(Payload), options);

        Assert.Equal(Payload.Length, body.Length);
    }

    [Fact]
    public async Task A_body_without_content_length_over_the_limit_is_rejected_with_413()
    {
        var options = new IngestOptions { MaxCompressedBodyBytes = 4096 };

        var error = await Assert.ThrowsAsync<IngestRejectedException>(() => Read(Request(new MemoryStream(Payload)), options));

        Assert.Equal(413, error.StatusCode);
    }

    [Fact]
    public async Task A_body_longer_than_its_content_length_claims_is_still_limited()
    {
        var options = new IngestOptions { MaxCompressedBodyBytes = 4096 };

        var error = await Assert.ThrowsAsync<IngestRejectedException>(() =>
            Read(Request(new MemoryStream(Payload), contentLength: 100), options));

        Assert.Equal(413, error.StatusCode);
    }

    [Fact]
    public async Task A_body_decompressing_past_the_limit_is_rejected_with_413()
    {
        var options = new IngestOptions { MaxDecompressedBodyBytes = 4096 };

        var error = await Assert.ThrowsAsync<IngestRejectedException>(() => Read(Request(Gzip(Payload), "gzip"), options));

        Assert.Equal(413, error.StatusCode);
        Assert.Contains("decompressed", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gzip_bomb_is_stopped_early_with_413()
    {
        var options = new IngestOptions { MaxDecompressedBodyBytes = 1024 * 1024 };
        var bomb = Bomb(50, s => new GZipStream(s, CompressionLevel.SmallestSize, leaveOpen: true));
        var body = new CountingStream(new MemoryStream(bomb));

        var error = await Assert.ThrowsAsync<IngestRejectedException>(() => Read(Request(body, "gzip", bomb.Length), options));

        Assert.Equal(413, error.StatusCode);
        // 50 MiB of zeros compress to about 50 KB; the first MiB needs about 1 KB of it plus a read buffer.
        Assert.InRange(bomb.Length, 40_000, 80_000);
        Assert.True(body.BytesRead < bomb.Length / 2, $"read {body.BytesRead} of {bomb.Length} compressed bytes");
    }

    [Fact]
    public async Task A_brotli_bomb_is_stopped_early_with_413()
    {
        var options = new IngestOptions { MaxDecompressedBodyBytes = 1024 * 1024 };
        // Brotli shrinks 100 MiB of zeros to a few KB, less than one read buffer; the random tail
        // makes the body large enough to show that reading stopped before its end.
        var bomb = Bomb(100, s => new BrotliStream(s, CompressionLevel.Fastest, leaveOpen: true), randomTailBytes: 512 * 1024);
        var body = new CountingStream(new MemoryStream(bomb));

        var error = await Assert.ThrowsAsync<IngestRejectedException>(() => Read(Request(body, "br", bomb.Length), options));

        Assert.Equal(413, error.StatusCode);
        Assert.True(body.BytesRead < bomb.Length / 4, $"read {body.BytesRead} of {bomb.Length} compressed bytes");
    }

    [Fact]
    public async Task A_deflate_bomb_is_stopped_early_with_413()
    {
        var options = new IngestOptions { MaxDecompressedBodyBytes = 1024 * 1024 };
        var bomb = Bomb(50, s => new ZLibStream(s, CompressionLevel.SmallestSize, leaveOpen: true));
        var body = new CountingStream(new MemoryStream(bomb));

        var error = await Assert.ThrowsAsync<IngestRejectedException>(() => Read(Request(body, "deflate", bomb.Length), options));

        Assert.Equal(413, error.StatusCode);
        Assert.True(body.BytesRead < bomb.Length / 2, $"read {body.BytesRead} of {bomb.Length} compressed bytes");
    }

    /// <summary>Counts the bytes the reader pulls from the request body.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            BytesRead += read;
            return read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
