using Faultline.Ingest;
using Faultline.Pipeline;

namespace Faultline.Docker;

/// <summary>What every part of one listener needs: its settings and the shared services.</summary>
public sealed record ListenerContext(
    string Name,
    LogListenerOptions Listener,
    DockerOptions Options,
    IngestOptions Ingest,
    ContainerEvents Events,
    SyslogParser Syslog,
    ProjectKeyResolver Keys,
    IngestPipeline Pipeline,
    DockerMetrics Metrics,
    RecentContainerLines Recent,
    LogStreamTracker Streams,
    TimeProvider Time,
    ILogger Logger,
    CancellationToken Stopping)
{
    public bool IsGelf => Listener.Protocol is LogProtocol.GelfTcp or LogProtocol.GelfUdp;

    /// <summary>The endpoint name in the ingest metrics and the log_source tag.</summary>
    public string Source => IsGelf ? "gelf" : "syslog";
}
