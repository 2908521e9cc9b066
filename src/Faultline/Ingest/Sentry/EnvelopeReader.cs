namespace Faultline.Ingest.Sentry;

/// <summary>
/// Reads an envelope's lines and payloads from a stream with a small buffer, so attachments and
/// other skipped items pass through without being held in memory.
/// </summary>
internal sealed class EnvelopeReader(Stream stream)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _eof;

    /// <summary>The bytes up to the next newline (not included), or null at the end of the stream.</summary>
    public async ValueTask<byte[]?> ReadLineAsync(int maxLength, string what, CancellationToken cancellationToken)
    {
        using var line = new MemoryStream();
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            var take = (newline < 0 ? _end : newline) - _start;
            if (line.Length + take > maxLength)
            {
                throw IngestRejectedException.TooLarge($"The {what} is longer than {maxLength} bytes.");
            }
            line.Write(_buffer, _start, take);
            _start += take;
            if (newline >= 0)
            {
                _start++;
                return line.ToArray();
            }
            if (!await FillAsync(cancellationToken))
            {
                return line.Length == 0 ? null : line.ToArray();
            }
        }
    }

    /// <summary>Exactly <paramref name="length"/> bytes; a shorter stream is a truncated envelope.</summary>
    public async ValueTask<byte[]> ReadExactlyAsync(int length, CancellationToken cancellationToken)
    {
        var payload = new byte[length];
        var filled = 0;
        while (filled < length)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                throw IngestRejectedException.Malformed($"The envelope ends inside an item: {length} bytes announced, {filled} present.");
            }
            var take = Math.Min(length - filled, _end - _start);
            Array.Copy(_buffer, _start, payload, filled, take);
            _start += take;
            filled += take;
        }
        return payload;
    }

    public async ValueTask SkipAsync(long length, CancellationToken cancellationToken)
    {
        var skipped = 0L;
        while (skipped < length)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                throw IngestRejectedException.Malformed($"The envelope ends inside an item: {length} bytes announced, {skipped} present.");
            }
            var take = (int)Math.Min(length - skipped, _end - _start);
            _start += take;
            skipped += take;
        }
    }

    /// <summary>Skips to just after the next newline or to the end.</summary>
    public async ValueTask SkipLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                _start = newline + 1;
                return;
            }
            _start = _end;
            if (!await FillAsync(cancellationToken))
            {
                return;
            }
        }
    }

    /// <summary>After a payload with a length comes a newline or the end of the envelope; anything else means a wrong length.</summary>
    public async ValueTask ExpectItemEndAsync(CancellationToken cancellationToken)
    {
        if (_start == _end && !await FillAsync(cancellationToken))
        {
            return;
        }
        if (_buffer[_start] != (byte)'\n')
        {
            throw IngestRejectedException.Malformed("An item's payload is longer than its announced length.");
        }
        _start++;
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_eof)
        {
            return false;
        }
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (read == 0)
        {
            _eof = true;
            return false;
        }
        _end += read;
        return true;
    }
}
