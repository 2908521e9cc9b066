using System.Diagnostics.Metrics;
using Faultline.Operations;

namespace Faultline.Docker;

/// <summary>The receivers' and the watcher's instruments on the Faultline meter.</summary>
public sealed class DockerMetrics
{
    private readonly Counter<long> _lines;
    private readonly Counter<long> _dropped;
    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _engineEvents;

    public DockerMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(FaultlineMetrics.MeterName);
        _lines = meter.CreateCounter<long>("faultline.docker.lines", "{line}", "Syslog lines and GELF messages received, by listener.");
        _dropped = meter.CreateCounter<long>("faultline.docker.dropped", "{line}", "Lines, frames or datagrams dropped by a receiver, by listener and reason.");
        _connections = meter.CreateUpDownCounter<long>("faultline.docker.connections", "{connection}", "Open TCP connections to the log receivers.");
        _engineEvents = meter.CreateCounter<long>("faultline.docker.engine.events", "{event}", "Docker engine events the watcher turned into Faultline events, by action.");
    }

    public void Received(string listener, int count = 1) => _lines.Add(count, new KeyValuePair<string, object?>("listener", listener));

    public void Dropped(string listener, string reason, int count = 1) =>
        _dropped.Add(count, new KeyValuePair<string, object?>("listener", listener), new KeyValuePair<string, object?>("reason", reason));

    public void Connection(int delta) => _connections.Add(delta);

    public void EngineEvent(string action) => _engineEvents.Add(1, new KeyValuePair<string, object?>("action", action));
}
