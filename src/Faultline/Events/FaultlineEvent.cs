using System.Text.Json;
using System.Text.Json.Serialization;

namespace Faultline.Events;

/// <summary>Severity of an event, in Sentry's vocabulary.</summary>
public enum EventLevel
{
    [JsonStringEnumMemberName("debug")]
    Debug = 0,
    [JsonStringEnumMemberName("info")]
    Info = 1,
    [JsonStringEnumMemberName("warning")]
    Warning = 2,
    [JsonStringEnumMemberName("error")]
    Error = 3,
    [JsonStringEnumMemberName("fatal")]
    Fatal = 4,
}

/// <summary>
/// The canonical event every front door (native API, Sentry envelope, syslog, GELF) normalises into.
/// It is also the JSON shape stored as the event's payload.
/// </summary>
public sealed record FaultlineEvent
{
    [JsonConverter(typeof(CompactGuidConverter))]
    public required Guid EventId { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public EventLevel Level { get; init; } = EventLevel.Error;
    public string? Message { get; init; }
    /// <summary>The message template without its parameters (Sentry's logentry.message), used for grouping.</summary>
    public string? MessageTemplate { get; init; }
    public string? Logger { get; init; }
    public string? Platform { get; init; }
    /// <summary>Where the event happened: a transaction name or the top in-app frame.</summary>
    public string? Culprit { get; init; }
    public string? Release { get; init; }
    public string? Dist { get; init; }
    public string? Environment { get; init; }
    public string? ServerName { get; init; }
    /// <summary>Oldest first: the last entry is the exception that was thrown (Sentry order).</summary>
    [JsonPropertyName("exception")]
    public IReadOnlyList<ExceptionInfo> Exceptions { get; init; } = [];
    public IReadOnlyList<Breadcrumb> Breadcrumbs { get; init; } = [];
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public UserInfo? User { get; init; }
    public SdkInfo? Sdk { get; init; }
    public IReadOnlyList<string>? Fingerprint { get; init; }
    public JsonElement? Extra { get; init; }
    public JsonElement? Contexts { get; init; }
    public JsonElement? Request { get; init; }

    /// <summary>The exception that was thrown last (Sentry lists the chain oldest first).</summary>
    [JsonIgnore]
    public ExceptionInfo? PrimaryException => Exceptions.Count == 0 ? null : Exceptions[^1];
}

public sealed record ExceptionInfo
{
    public string? Type { get; init; }
    public string? Value { get; init; }
    public string? Module { get; init; }
    public MechanismInfo? Mechanism { get; init; }
    /// <summary>Caller first, crash site last (Sentry order).</summary>
    public IReadOnlyList<StackFrame> Frames { get; init; } = [];
}

public sealed record MechanismInfo
{
    public string? Type { get; init; }
    public bool? Handled { get; init; }
    public bool Synthetic { get; init; }
}

public sealed record StackFrame
{
    public string? Filename { get; init; }
    public string? AbsPath { get; init; }
    public string? Function { get; init; }
    public string? Module { get; init; }
    public int? Lineno { get; init; }
    public int? Colno { get; init; }
    public bool? InApp { get; init; }
    public string? ContextLine { get; init; }
    public IReadOnlyList<string>? PreContext { get; init; }
    public IReadOnlyList<string>? PostContext { get; init; }
    public string? Package { get; init; }
    public string? InstructionAddr { get; init; }
}

public sealed record Breadcrumb
{
    public DateTimeOffset? Timestamp { get; init; }
    public string? Type { get; init; }
    public string? Category { get; init; }
    public string? Message { get; init; }
    public EventLevel? Level { get; init; }
    public JsonElement? Data { get; init; }
}

public sealed record UserInfo
{
    public string? Id { get; init; }
    public string? Email { get; init; }
    public string? Username { get; init; }
    public string? IpAddress { get; init; }
}

public sealed record SdkInfo
{
    public string? Name { get; init; }
    public string? Version { get; init; }
}
