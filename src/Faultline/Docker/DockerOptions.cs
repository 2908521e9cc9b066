using System.ComponentModel.DataAnnotations;

namespace Faultline.Docker;

/// <summary>What a listener speaks: syslog or GELF, over TCP or UDP.</summary>
public enum LogProtocol
{
    SyslogTcp,
    SyslogUdp,
    GelfTcp,
    GelfUdp,
}

/// <summary>
/// The receivers for Docker's syslog and GELF log drivers and the optional engine watcher. Nothing
/// listens unless a listener is configured.
/// </summary>
public sealed class DockerOptions
{
    public const string Section = "Faultline:Docker";

    /// <summary>Listeners by name (the name appears in metrics and tags). Empty: no receiver runs.</summary>
    public Dictionary<string, LogListenerOptions> Listeners { get; set; } = [];

    /// <summary>Lines matching this become error events even at an informational syslog/GELF level.</summary>
    public string ErrorPattern { get; set; } = "Exception|ERROR|FATAL|panic|Traceback";

    /// <summary>
    /// Container names (shell-style patterns, * and ?) whose streams are critical: their issues are kept
    /// until reviewed, exempt from retention.
    /// </summary>
    public List<string> CriticalContainers { get; set; } = [];

    /// <summary>
    /// How a container's name, id and image are read from a syslog tag (Docker's <c>tag</c> log option).
    /// The default reads <c>{{.Name}}/{{.ID}}</c> and <c>{{.Name}}/{{.ID}}/{{.ImageName}}</c>; a tag that
    /// does not match is taken as the name, or as the id when it is 12 or 64 hex digits.
    /// </summary>
    public string SyslogTagPattern { get; set; } = @"^(?<name>[^/]+)/(?<id>[0-9a-f]{12}|[0-9a-f]{64})(/(?<image>.+))?$";

    public MultilineOptions Multiline { get; set; } = new();

    /// <summary>One syslog line or GELF message on the wire. Docker splits container lines at 16 KiB; GELF adds its fields.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>A GELF message after gzip/zlib inflation; checked while inflating, so a compression bomb stops here.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxDecompressedBytes { get; set; } = 1024 * 1024;

    /// <summary>Chunked GELF messages being reassembled at once per listener; beyond it the oldest is dropped.</summary>
    [Range(1, 100_000)]
    public int MaxPendingChunkedMessages { get; set; } = 1000;

    /// <summary>A chunked GELF message must be complete within this (the GELF spec says 5 seconds).</summary>
    public TimeSpan ChunkExpiry { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Open TCP connections per listener: one per container in Docker's drivers, so a few hundred is plenty.</summary>
    [Range(1, 100_000)]
    public int MaxConnections { get; set; } = 256;

    /// <summary>Lines read but not yet submitted, per TCP connection or UDP listener; a full queue stops reading (TCP) or drops (UDP).</summary>
    [Range(16, 1_000_000)]
    public int QueueCapacity { get; set; } = 2048;

    /// <summary>Lines handed to the pipeline at once: large enough to amortise a commit over many lines.</summary>
    [Range(1, 100_000)]
    public int MaxBatchLines { get; set; } = 1000;

    /// <summary>Recent lines kept in memory per container, attached to watcher events (a container that died).</summary>
    [Range(0, 1000)]
    public int RecentLinesPerContainer { get; set; } = 20;

    public WatcherOptions Watcher { get; set; } = new();
}

public sealed class LogListenerOptions
{
    [Required]
    public LogProtocol? Protocol { get; set; }

    /// <summary>Loopback by default: opening a log port to the network is a decision.</summary>
    [Required]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests); the bound port is reported by <see cref="DockerLogReceivers"/>.</summary>
    [Range(0, 65535)]
    public int Port { get; set; }

    /// <summary>Project key for lines that carry none (no syslog structured data key, no GELF _faultline_key).</summary>
    public string? ProjectKey { get; set; }

    /// <summary>Every stream received here is critical: its issues are kept until reviewed.</summary>
    public bool Critical { get; set; }
}

public sealed class MultilineOptions
{
    /// <summary>A line matching this continues the held error line of the same stream (stack frames, "Caused by:").</summary>
    public string ContinuationPattern { get; set; } = @"^\s+\S|^Caused by:|^---|^\.\.\. \d+ more";

    /// <summary>How long an error line waits for continuation lines; this is the delay an error line sees before it is stored.</summary>
    public TimeSpan FlushAfter { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Lines joined into one event at most; a runaway trace is cut into several events.</summary>
    [Range(1, 10_000)]
    public int MaxLines { get; set; } = 500;
}

public sealed class WatcherOptions
{
    /// <summary>The engine's socket, e.g. unix:///var/run/docker.sock. Unset: no watcher.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Project key the watcher's events (died, oom, restart loop, unhealthy) go to.</summary>
    public string? ProjectKey { get; set; }

    /// <summary>Restarts within <see cref="RestartWindow"/> that make a restart loop.</summary>
    [Range(2, 1000)]
    public int RestartLoopCount { get; set; } = 3;

    public TimeSpan RestartWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Wait before reconnecting to an engine that went away.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(2);
}
