using System.Buffers;

namespace Faultline.Docker;

/// <summary>
/// Cuts a TCP byte stream into frames without buffering more than the maximum message size:
/// syslog's octet counting ("LEN SP MSG", RFC 6587) or newline framing, or GELF's NUL delimiter.
/// Oversized and broken frames are skipped and reported with a reason; the stream goes on.
/// </summary>
public sealed class LogFramer(bool octetCounting, byte delimiter, int maxBytes)
{
    private long _skip;
    private bool _discardLine;

    public static LogFramer Syslog(int maxBytes) => new(true, (byte)'\n', maxBytes);

    public static LogFramer Gelf(int maxBytes) => new(false, 0, maxBytes);

    /// <summary>True when a frame or a drop was produced; false when more bytes are needed.</summary>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, bool completed, out ReadOnlySequence<byte> frame, out string? dropped)
    {
        frame = default;
        dropped = null;
        while (true)
        {
            if (_skip > 0)
            {
                var n = Math.Min(_skip, buffer.Length);
                buffer = buffer.Slice(n);
                _skip -= n;
                if (_skip > 0)
                {
                    if (completed)
                    {
                        _skip = 0;
                    }
                    return false;
                }
            }
            if (_discardLine)
            {
                var end = buffer.PositionOf(delimiter);
                if (end is null)
                {
                    buffer = buffer.Slice(buffer.End);
                    return false;
                }
                buffer = buffer.Slice(buffer.GetPosition(1, end.Value));
                _discardLine = false;
            }
            if (buffer.IsEmpty)
            {
                return false;
            }
            var first = buffer.FirstSpan[0];
            if (first is (byte)'\n' or (byte)'\r' or 0)
            {
                buffer = buffer.Slice(1); // empty frames between messages
                continue;
            }
            if (octetCounting && first is >= (byte)'1' and <= (byte)'9')
            {
                return TryReadCounted(ref buffer, completed, out frame, out dropped);
            }
            var delimiterAt = buffer.PositionOf(delimiter);
            if (delimiterAt is null)
            {
                if (buffer.Length > maxBytes)
                {
                    dropped = "too_large";
                    buffer = buffer.Slice(buffer.End);
                    _discardLine = true;
                    return true;
                }
                if (!completed)
                {
                    return false;
                }
                // The connection closed after an unterminated last line: it was sent whole, keep it.
                frame = buffer;
                buffer = buffer.Slice(buffer.End);
                return true;
            }
            frame = buffer.Slice(0, delimiterAt.Value);
            buffer = buffer.Slice(buffer.GetPosition(1, delimiterAt.Value));
            if (frame.Length > maxBytes)
            {
                frame = default;
                dropped = "too_large";
            }
            return true;
        }
    }

    private bool TryReadCounted(ref ReadOnlySequence<byte> buffer, bool completed, out ReadOnlySequence<byte> frame, out string? dropped)
    {
        frame = default;
        dropped = null;
        Span<byte> head = stackalloc byte[11];
        var headLength = (int)Math.Min(head.Length, buffer.Length);
        buffer.Slice(0, headLength).CopyTo(head);
        var space = head[..headLength].IndexOf((byte)' ');
        if (space < 0)
        {
            if (headLength < head.Length && !completed)
            {
                return false;
            }
            return BadCount(ref buffer, out dropped);
        }
        long length = 0;
        foreach (var digit in head[..space])
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return BadCount(ref buffer, out dropped);
            }
            length = length * 10 + (digit - '0');
        }
        if (length > maxBytes)
        {
            dropped = "too_large";
            buffer = buffer.Slice(space + 1);
            _skip = length;
            return true;
        }
        if (buffer.Length - (space + 1) < length)
        {
            if (!completed)
            {
                return false;
            }
            dropped = "truncated";
            buffer = buffer.Slice(buffer.End);
            return true;
        }
        frame = buffer.Slice(space + 1, length);
        buffer = buffer.Slice(frame.End);
        return true;
    }

    /// <summary>A count that is not a number: resynchronise at the next newline.</summary>
    private bool BadCount(ref ReadOnlySequence<byte> buffer, out string? dropped)
    {
        dropped = "bad_frame";
        _discardLine = true;
        return true;
    }
}
