using System.Text.Json;
using System.Text.Json.Serialization;

namespace Faultline.Ingest;

// These records document the native event schema in the OpenAPI document. Parsing is done by
// EventNormalizer, which also accepts the Sentry variants of each field.

/// <summary>One event sent to POST /api/v1/events.</summary>
public sealed record NativeEvent(
    [property: JsonPropertyName("event_id"), JsonPropertyOrder(0)] string? EventId,
    [property: JsonPropertyName("timestamp")] string? Timestamp,
    [property: JsonPropertyName("level")] string? Level,
    [property: JsonPropertyName("message")] string? Message,
    [property: JsonPropertyName("logger")] string? Logger,
    [property: JsonPropertyName("platform")] string? Platform,
    [property: JsonPropertyName("transaction")] string? Transaction,
    [property: JsonPropertyName("release")] string? Release,
    [property: JsonPropertyName("environment")] string? Environment,
    [property: JsonPropertyName("server_name")] string? ServerName,
    [property: JsonPropertyName("exception")] IReadOnlyList<NativeException>? Exception,
    [property: JsonPropertyName("breadcrumbs")] IReadOnlyList<NativeBreadcrumb>? Breadcrumbs,
    [property: JsonPropertyName("tags")] IReadOnlyDictionary<string, string>? Tags,
    [property: JsonPropertyName("user")] NativeUser? User,
    [property: JsonPropertyName("sdk")] NativeSdk? Sdk,
    [property: JsonPropertyName("fingerprint")] IReadOnlyList<string>? Fingerprint,
    [property: JsonPropertyName("extra")] JsonElement? Extra);

/// <summary>One exception of the chain, oldest first: the last one is the exception that was thrown.</summary>
public sealed record NativeException(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("value")] string? Value,
    [property: JsonPropertyName("module")] string? Module,
    [property: JsonPropertyName("stacktrace")] NativeStacktrace? Stacktrace);

/// <summary>Frames caller first, crash site last.</summary>
public sealed record NativeStacktrace([property: JsonPropertyName("frames")] IReadOnlyList<NativeFrame> Frames);

public sealed record NativeFrame(
    [property: JsonPropertyName("filename")] string? Filename,
    [property: JsonPropertyName("function")] string? Function,
    [property: JsonPropertyName("module")] string? Module,
    [property: JsonPropertyName("lineno")] int? Lineno,
    [property: JsonPropertyName("colno")] int? Colno,
    [property: JsonPropertyName("in_app")] bool? InApp,
    [property: JsonPropertyName("context_line")] string? ContextLine,
    [property: JsonPropertyName("pre_context")] IReadOnlyList<string>? PreContext,
    [property: JsonPropertyName("post_context")] IReadOnlyList<string>? PostContext);

public sealed record NativeBreadcrumb(
    [property: JsonPropertyName("timestamp")] string? Timestamp,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("category")] string? Category,
    [property: JsonPropertyName("message")] string? Message,
    [property: JsonPropertyName("level")] string? Level,
    [property: JsonPropertyName("data")] JsonElement? Data);

public sealed record NativeUser(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("ip_address")] string? IpAddress);

public sealed record NativeSdk(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("version")] string? Version);
