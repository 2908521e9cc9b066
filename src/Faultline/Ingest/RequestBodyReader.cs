using System.IO.Compression;

namespace Faultline.Ingest;

/// <summary>
/// Reads a request body through its Content-Encoding with two limits: bytes on the wire and bytes
/// after decompression, both counted while streaming so a decompression bomb stops at the limit.
/// </summary>
public static class RequestBodyReader
{
    public static async Task<byte[]> ReadAsync(HttpRequest request, IngestOptions options, CancellationToken cancellationToken)
    {
        if (request.ContentLength > options.MaxCompressedBodyBytes)
        {
            throw IngestRejectedException.TooLarge($"The body is {request.ContentLength} bytes; the limit is {options.MaxCompressedBodyBytes}.");
        }
        // Kestrel's own limit would answer with a generic error; ours says what the limit is.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }
        var wire = new LimitedReadStream(request.Body, options.MaxCompressedBodyBytes,
            () => IngestRejectedException.TooLarge($"The body exceeds {options.MaxCompressedBodyBytes} bytes."));
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        await using Stream decoded = encoding switch
        {
            "" or "identity" => wire,
            "gzip" or "x-gzip" => new GZipStream(wire, CompressionMode.Decompress),
            "deflate" => new ZLibStream(wire, CompressionMode.Decompress),
            "br" => new BrotliStream(wire, CompressionMode.Decompress),
            _ => throw new IngestRejectedException(StatusCodes.Status415UnsupportedMediaType, "unsupported_encoding",
                $"Content-Encoding '{encoding}' is not supported: use gzip, deflate, br or none."),
        };
        var limited = new LimitedReadStream(decoded, options.MaxDecompressedBodyBytes,
            () => IngestRejectedException.TooLarge($"The decompressed body exceeds {options.MaxDecompressedBodyBytes} bytes."));
        using var buffer = new MemoryStream(capacity: (int)Math.Min(request.ContentLength ?? 16 * 1024, options.MaxCompressedBodyBytes));
        try
        {
            await limited.CopyToAsync(buffer, 64 * 1024, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException && encoding.Length > 0)
        {
            throw IngestRejectedException.Malformed($"The body is not valid {encoding} data.");
        }
        return buffer.ToArray();
    }

    /// <summary>Counts bytes read and throws the given rejection past the limit.</summary>
    private sealed class LimitedReadStream(Stream inner, long limit, Func<Exception> tooLarge) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw tooLarge() : read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
