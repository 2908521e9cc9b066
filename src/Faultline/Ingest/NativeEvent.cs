using System.Text.Json;
using System.Text.Json.Serialization;

namespace Faultline.Ingest;

// These types document the native event schema in the OpenAPI document. Parsing is done by
// EventNormalizer, which also accepts the Sentry variants of each field.

/// <summary>One event sent to POST /api/v1/events.</summary>
public sealed class NativeEvent
{
    [JsonPropertyName("event_id")]
    public string? EventId { get; init; }

    [JsonPropertyName("timestamp")]
    public string? Timestamp { get; init; }

    [JsonPropertyName("level")]
    public string? Level { get; init; }

    [JsonPropertyName("message")]
    public string? Message { get; init; }

    [JsonPropertyName("logger")]
    public string? Logger { get; init; }

    [JsonPropertyName("platform")]
    public string? Platform { get; init; }

    [JsonPropertyName("transaction")]
    public string? Transaction { get; init; }

    [JsonPropertyName("release")]
    public string? Release { get; init; }

    [JsonPropertyName("environment")]
    public string? Environment { get; init; }

    [JsonPropertyName("server_name")]
    public string? ServerName { get; init; }

    [JsonPropertyName("exception")]
    public IReadOnlyList<NativeException>? Exception { get; init; }

    [JsonPropertyName("breadcrumbs")]
    public IReadOnlyList<NativeBreadcrumb>? Breadcrumbs { get; init; }

    [JsonPropertyName("tags")]
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    [JsonPropertyName("user")]
    public NativeUser? User { get; init; }

    [JsonPropertyName("sdk")]
    public NativeSdk? Sdk { get; init; }

    [JsonPropertyName("fingerprint")]
    public IReadOnlyList<string>? Fingerprint { get; init; }

    [JsonPropertyName("extra")]
    public JsonElement? Extra { get; init; }
}

/// <summary>One exception of the chain, oldest first: the last one is the exception that was thrown.</summary>
public sealed class NativeException
{
    [JsonPropertyName("type")]
    public string? Type { get; init; }

    [JsonPropertyName("value")]
    public string? Value { get; init; }

    [JsonPropertyName("module")]
    public string? Module { get; init; }

    [JsonPropertyName("stacktrace")]
    public NativeStacktrace? Stacktrace { get; init; }
}

/// <summary>Frames caller first, crash site last.</summary>
public sealed class NativeStacktrace
{
    [JsonPropertyName("frames")]
    public IReadOnlyList<NativeFrame>? Frames { get; init; }
}

public sealed class NativeFrame
{
    [JsonPropertyName("filename")]
    public string? Filename { get; init; }

    [JsonPropertyName("function")]
    public string? Function { get; init; }

    [JsonPropertyName("module")]
    public string? Module { get; init; }

    [JsonPropertyName("lineno")]
    public int? Lineno { get; init; }

    [JsonPropertyName("colno")]
    public int? Colno { get; init; }

    [JsonPropertyName("in_app")]
    public bool? InApp { get; init; }

    [JsonPropertyName("context_line")]
    public string? ContextLine { get; init; }

    [JsonPropertyName("pre_context")]
    public IReadOnlyList<string>? PreContext { get; init; }

    [JsonPropertyName("post_context")]
    public IReadOnlyList<string>? PostContext { get; init; }
}

public sealed class NativeBreadcrumb
{
    [JsonPropertyName("timestamp")]
    public string? Timestamp { get; init; }

    [JsonPropertyName("type")]
    public string? Type { get; init; }

    [JsonPropertyName("category")]
    public string? Category { get; init; }

    [JsonPropertyName("message")]
    public string? Message { get; init; }

    [JsonPropertyName("level")]
    public string? Level { get; init; }

    [JsonPropertyName("data")]
    public JsonElement? Data { get; init; }
}

public sealed class NativeUser
{
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    [JsonPropertyName("email")]
    public string? Email { get; init; }

    [JsonPropertyName("username")]
    public string? Username { get; init; }

    [JsonPropertyName("ip_address")]
    public string? IpAddress { get; init; }
}

public sealed class NativeSdk
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }
}
