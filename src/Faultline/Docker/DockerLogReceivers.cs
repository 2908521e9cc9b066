using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Faultline.Ingest;
using Faultline.Pipeline;
using Microsoft.Extensions.Options;

namespace Faultline.Docker;

public interface ILogListener
{
    /// <summary>Binds the socket and returns the bound endpoint (port 0 becomes a free port).</summary>
    IPEndPoint Start();

    Task RunAsync(CancellationToken stopping);
}

/// <summary>
/// Starts the configured syslog and GELF listeners before the server takes requests, and on stop
/// lets each one submit what it has read before the pipeline's writer stops (it is registered after it).
/// </summary>
public sealed partial class DockerLogReceivers(
    IOptions<DockerOptions> options,
    IOptions<IngestOptions> ingest,
    ProjectKeyResolver keys,
    IngestPipeline pipeline,
    DockerMetrics metrics,
    RecentContainerLines recent,
    LogStreamTracker streams,
    TimeProvider time,
    ILogger<DockerLogReceivers> logger) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, IPEndPoint> _bound = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Task> _running = [];

    /// <summary>The endpoint a listener is bound to (its port when configured with port 0).</summary>
    public IPEndPoint? BoundEndpoint(string listener) => _bound.TryGetValue(listener, out var endpoint) ? endpoint : null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var events = new ContainerEvents(settings, ingest.Value);
        var syslog = new SyslogParser(new Regex(settings.SyslogTagPattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), time);
        foreach (var (name, listener) in settings.Listeners)
        {
            var context = new ListenerContext(name, listener, settings, ingest.Value, events, syslog, keys, pipeline, metrics, recent, streams, time, logger, _stopping.Token);
            ILogListener running = listener.Protocol is LogProtocol.SyslogUdp or LogProtocol.GelfUdp
                ? new UdpLogListener(context)
                : new TcpLogListener(context);
            var endpoint = running.Start();
            _bound[name] = endpoint;
            LogListening(logger, name, listener.Protocol!.Value, endpoint);
            _running.Add(Task.Run(() => running.RunAsync(_stopping.Token), CancellationToken.None));
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_running).WaitAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Log listener {Listener} ({Protocol}) listening on {Endpoint}")]
    private static partial void LogListening(ILogger logger, string listener, LogProtocol protocol, IPEndPoint endpoint);
}
