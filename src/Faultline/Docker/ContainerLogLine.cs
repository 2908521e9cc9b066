namespace Faultline.Docker;

/// <summary>One line as a receiver parsed it, before it becomes an event.</summary>
public sealed record ContainerLogLine
{
    public required string Message { get; init; }

    /// <summary>Syslog severity 0 (emergency) to 7 (debug); GELF levels use the same scale.</summary>
    public int? Severity { get; init; }

    public DateTimeOffset? Timestamp { get; init; }
    public string? Host { get; init; }
    public string? ContainerName { get; init; }
    public string? ContainerId { get; init; }
    public string? Image { get; init; }
    public string? Command { get; init; }

    /// <summary>The syslog APP-NAME/tag or the GELF _tag.</summary>
    public string? Tag { get; init; }

    /// <summary>A project key the sender put in the line itself (syslog structured data, GELF _faultline_key).</summary>
    public string? ProjectKey { get; init; }

    /// <summary>Set by the receiver: error level or error pattern; decides whether the line waits for stack trace lines.</summary>
    public bool IsError { get; init; }

    /// <summary>Lines of one container (or one sender) share this; multi-line joining works within a stream.</summary>
    public string StreamKey => ContainerId ?? ContainerName ?? Tag ?? Host ?? "";

    /// <summary>The name a person knows the stream by.</summary>
    public string StreamName => ContainerName ?? ContainerId ?? Tag ?? Host ?? "unknown";
}
