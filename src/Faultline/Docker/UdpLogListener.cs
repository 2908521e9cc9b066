using System.Net;
using System.Net.Sockets;

namespace Faultline.Docker;

/// <summary>
/// Syslog or GELF (chunked, gzip or zlib) over UDP. Best effort by nature: the kernel drops datagrams
/// when the socket buffer is full, and a full queue or a rate limit drops lines here (counted).
/// </summary>
public sealed partial class UdpLogListener(ListenerContext context) : ILogListener
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    public IPEndPoint Start()
    {
        var address = IPAddress.Parse(context.Listener.Address);
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            throw new InvalidOperationException("UDP listeners take an IPv4 address.");
        }
        try
        {
            _socket.ReceiveBufferSize = 4 * 1024 * 1024; // bursts of datagrams wait in the kernel, not dropped
        }
        catch (SocketException)
        {
            // The kernel caps it; its default still works.
        }
        _socket.Bind(new IPEndPoint(address, context.Listener.Port));
        return (IPEndPoint)_socket.LocalEndPoint!;
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        var stream = new LogStream(context, reliable: false);
        var chunks = new GelfChunkAssembler(context.Options.MaxPendingChunkedMessages, context.Options.MaxMessageBytes, context.Options.ChunkExpiry, context.Time);
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                int received;
                try
                {
                    received = (await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stopping)).ReceivedBytes;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (SocketException)
                {
                    continue; // e.g. a truncated datagram or an ICMP error from an earlier send
                }
                try
                {
                    Handle(buffer.AsSpan(0, received), chunks, stream);
                }
                catch (Exception e)
                {
                    context.Metrics.Dropped(context.Name, "error");
                    LogDatagramFailed(context.Logger, e, context.Name);
                }
            }
        }
        finally
        {
            _socket.Dispose();
            await stream.CompleteAsync();
        }
    }

    private void Handle(ReadOnlySpan<byte> datagram, GelfChunkAssembler chunks, LogStream stream)
    {
        ContainerLogLine? line;
        string? reason;
        if (!context.IsGelf)
        {
            context.Metrics.Received(context.Name);
            if (datagram.Length > context.Options.MaxMessageBytes)
            {
                context.Metrics.Dropped(context.Name, "too_large");
                return;
            }
            line = context.Syslog.Parse(datagram, out reason);
        }
        else
        {
            byte[] payload;
            if (GelfParser.IsChunk(datagram))
            {
                var whole = chunks.Add(datagram, out var dropped, out var expired);
                if (expired > 0)
                {
                    context.Metrics.Dropped(context.Name, "chunk_expired", expired);
                }
                if (dropped is not null)
                {
                    context.Metrics.Dropped(context.Name, dropped);
                }
                if (whole is null)
                {
                    return;
                }
                payload = whole;
            }
            else
            {
                payload = datagram.ToArray();
            }
            context.Metrics.Received(context.Name);
            var json = GelfParser.Decompress(payload, payload.Length, context.Options.MaxDecompressedBytes, out reason);
            line = json is null ? null : GelfParser.Parse(json, out reason);
        }
        if (line is null)
        {
            context.Metrics.Dropped(context.Name, reason ?? "malformed");
            return;
        }
        if (!stream.TryWrite(line))
        {
            context.Metrics.Dropped(context.Name, "overloaded");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Log listener {Listener}: a datagram failed")]
    private static partial void LogDatagramFailed(ILogger logger, Exception exception, string listener);
}
