using System.IO.Compression;
using Microsoft.AspNetCore.Http.Features;
using ZstdSharp;

namespace Faultline.Ingest;

/// <summary>
/// Reads a request body through its Content-Encoding with two limits: bytes on the wire and bytes
/// after decompression, both counted while streaming so a decompression bomb stops at the limit.
/// </summary>
public static class RequestBodyReader
{
    public static async Task<byte[]> ReadAsync(HttpRequest request, IngestOptions options, CancellationToken cancellationToken)
    {
        await using var decoded = OpenDecoded(request, options);
        using var buffer = new MemoryStream(capacity: (int)Math.Min(request.ContentLength ?? 16 * 1024, options.MaxCompressedBodyBytes));
        await decoded.CopyToAsync(buffer, 64 * 1024, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>
    /// The decoded body as a stream that enforces both limits; corrupt compressed data surfaces as a
    /// 400 <see cref="IngestRejectedException"/> when read.
    /// </summary>
    public static Stream OpenDecoded(HttpRequest request, IngestOptions options)
    {
        if (request.ContentLength > options.MaxCompressedBodyBytes)
        {
            throw IngestRejectedException.TooLarge($"The body is {request.ContentLength} bytes; the limit is {options.MaxCompressedBodyBytes}.");
        }
        // Kestrel's own limit would answer with a generic error; ours says what the limit is.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }
        var wire = new LimitedReadStream(request.Body, options.MaxCompressedBodyBytes,
            () => IngestRejectedException.TooLarge($"The body exceeds {options.MaxCompressedBodyBytes} bytes."), encoding: null);
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        Stream decoded = encoding switch
        {
            "" or "identity" => wire,
            "gzip" or "x-gzip" => new GZipStream(wire, CompressionMode.Decompress),
            "deflate" => new ZLibStream(wire, CompressionMode.Decompress),
            "br" => new BrotliStream(wire, CompressionMode.Decompress),
            "zstd" => new DecompressionStream(wire),
            _ => throw new IngestRejectedException(StatusCodes.Status415UnsupportedMediaType, "unsupported_encoding",
                $"Content-Encoding '{encoding}' is not supported: use gzip, deflate, br, zstd or none."),
        };
        return new LimitedReadStream(decoded, options.MaxDecompressedBodyBytes,
            () => IngestRejectedException.TooLarge($"The decompressed body exceeds {options.MaxDecompressedBodyBytes} bytes."),
            encoding.Length > 0 && encoding != "identity" ? encoding : null);
    }

    /// <summary>Counts bytes read, throws the given rejection past the limit, and turns decoder errors into a 400.</summary>
    private sealed class LimitedReadStream(Stream inner, long limit, Func<Exception> tooLarge, string? encoding) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return Count(inner.Read(buffer, offset, count));
            }
            catch (Exception e) when (IsCorruptData(e))
            {
                throw Corrupt();
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return Count(await inner.ReadAsync(buffer, cancellationToken));
            }
            catch (Exception e) when (IsCorruptData(e))
            {
                throw Corrupt();
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private bool IsCorruptData(Exception e) =>
            encoding is not null && e is InvalidDataException or InvalidOperationException or ZstdException;

        private IngestRejectedException Corrupt() => IngestRejectedException.Malformed($"The body is not valid {encoding} data.");

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw tooLarge() : read;
        }

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

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
