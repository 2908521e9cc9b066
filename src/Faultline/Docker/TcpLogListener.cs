using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Faultline.Docker;

/// <summary>Syslog (octet counting or newline framing) or GELF (NUL-delimited) over TCP; one <see cref="LogStream"/> per connection.</summary>
public sealed partial class TcpLogListener(ListenerContext context) : ILogListener
{
    private readonly TcpListener _listener = new(IPAddress.Parse(context.Listener.Address), context.Listener.Port);
    private readonly SemaphoreSlim _connections = new(context.Options.MaxConnections);

    public IPEndPoint Start()
    {
        _listener.Start(backlog: 256);
        return (IPEndPoint)_listener.LocalEndpoint;
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        var open = new List<Task>();
        using var stop = stopping.Register(_listener.Stop);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(stopping);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || (e is SocketException && stopping.IsCancellationRequested))
                {
                    break;
                }
                catch (SocketException)
                {
                    continue; // a connection that failed during accept
                }
                if (!_connections.Wait(0))
                {
                    context.Metrics.Dropped(context.Name, "too_many_connections");
                    socket.Dispose();
                    continue;
                }
                open.RemoveAll(t => t.IsCompleted);
                open.Add(Task.Run(() => HandleAsync(socket, stopping), CancellationToken.None));
            }
        }
        finally
        {
            // Connections stop reading; what they read is still submitted before they finish.
            await Task.WhenAll(open);
        }
    }

    private async Task HandleAsync(Socket socket, CancellationToken stopping)
    {
        context.Metrics.Connection(1);
        var stream = new LogStream(context, reliable: true);
        var framer = context.IsGelf ? LogFramer.Gelf(context.Options.MaxMessageBytes) : LogFramer.Syslog(context.Options.MaxMessageBytes);
        try
        {
            await using var network = new NetworkStream(socket, ownsSocket: true);
            var reader = PipeReader.Create(network, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
            while (true)
            {
                var result = await reader.ReadAsync(stopping);
                var buffer = result.Buffer;
                while (framer.TryRead(ref buffer, result.IsCompleted, out var frame, out var dropped))
                {
                    if (dropped is not null)
                    {
                        context.Metrics.Dropped(context.Name, dropped);
                        continue;
                    }
                    if (Parse(frame) is { } line)
                    {
                        await stream.WriteAsync(line, stopping);
                    }
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
            await reader.CompleteAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The sender went away or the server stops.
        }
        catch (Exception e)
        {
            context.Metrics.Dropped(context.Name, "error");
            LogConnectionFailed(context.Logger, e, context.Name);
        }
        finally
        {
            await stream.CompleteAsync();
            context.Metrics.Connection(-1);
            _connections.Release();
        }
    }

    private ContainerLogLine? Parse(ReadOnlySequence<byte> frame)
    {
        context.Metrics.Received(context.Name);
        var bytes = frame.IsSingleSegment ? frame.FirstSpan : frame.ToArray();
        string? reason;
        ContainerLogLine? line;
        try
        {
            line = context.IsGelf ? GelfParser.Parse(bytes, out reason) : context.Syslog.Parse(bytes, out reason);
        }
        catch (Exception e) when (e is RegexMatchTimeoutException or ArgumentException or FormatException)
        {
            (line, reason) = (null, "error"); // one bad frame never ends the connection
        }
        if (line is null)
        {
            context.Metrics.Dropped(context.Name, reason ?? "malformed");
        }
        return line;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Log listener {Listener}: a connection failed")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception, string listener);
}
