using System.Globalization;
using System.Text.Json;
using Faultline.Events;

namespace Faultline.Ingest;

/// <summary>
/// Turns one JSON event (native or Sentry shape, including legacy interface names) into a
/// <see cref="FaultlineEvent"/>. Strict mode (native API) rejects a wrongly typed known field with
/// its path; lenient mode (Sentry SDKs, which cannot show a 400 to anyone) drops such a field.
/// Strings are truncated to the configured lengths and cleaned of NUL characters, which
/// PostgreSQL cannot store.
/// </summary>
public sealed partial class EventNormalizer(IngestOptions options, bool strict)
{
    // Sentry accepts events up to a minute in the future (clock skew); later ones are clamped.
    private static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(1);

    public FaultlineEvent Normalize(JsonElement json, string path, DateTimeOffset receivedAt)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw new EventValidationException(path, "an event must be a JSON object");
        }
        var reader = new FieldReader(json, path, strict);
        var message = Message(reader);
        var exceptions = Exceptions(reader);
        return new FaultlineEvent
        {
            EventId = EventId(reader),
            Timestamp = Timestamp(reader, receivedAt),
            Level = Level(reader),
            Message = message.Formatted is null ? null : Truncate(message.Formatted, options.MaxMessageLength),
            MessageTemplate = message.Template is null ? null : Truncate(message.Template, options.MaxMessageLength),
            Logger = Short(reader.String("logger")),
            Platform = Short(reader.String("platform")),
            Culprit = Short(reader.String("transaction") ?? reader.String("culprit")),
            Release = Short(reader.String("release")),
            Dist = Short(reader.String("dist")),
            Environment = Short(reader.String("environment")),
            ServerName = Short(reader.String("server_name")),
            Exceptions = exceptions,
            Breadcrumbs = Breadcrumbs(reader),
            Tags = Tags(reader),
            User = User(reader),
            Sdk = Sdk(reader),
            Fingerprint = Fingerprint(reader),
            Extra = reader.Passthrough("extra"),
            Contexts = reader.Passthrough("contexts"),
            Request = reader.Passthrough("request") ?? reader.Passthrough("sentry.interfaces.Http"),
        };
    }

    private static Guid EventId(FieldReader reader)
    {
        var text = reader.String("event_id");
        if (text is null)
        {
            return Guid.CreateVersion7();
        }
        if (Guid.TryParseExact(text, "N", out var id) || Guid.TryParseExact(text, "D", out id))
        {
            return id;
        }
        reader.Invalid("event_id", "expected 32 hexadecimal characters or a UUID");
        return Guid.CreateVersion7();
    }

    private static DateTimeOffset Timestamp(FieldReader reader, DateTimeOffset receivedAt)
    {
        if (!reader.Json.TryGetProperty("timestamp", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return receivedAt;
        }
        if (TimestampParser.TryParse(value, out var timestamp))
        {
            return timestamp > receivedAt + FutureTolerance ? receivedAt : timestamp;
        }
        reader.Invalid("timestamp", "expected an RFC 3339 date-time string or Unix epoch seconds");
        return receivedAt;
    }

    private static EventLevel Level(FieldReader reader)
    {
        var text = reader.String("level");
        if (text is null)
        {
            return EventLevel.Error;
        }
        if (EventLevels.TryParse(text, out var level))
        {
            return level;
        }
        reader.Invalid("level", $"unknown level '{text}': expected fatal, error, warning, info or debug");
        return EventLevel.Error;
    }

    /// <summary>Sentry sends message as a string or {formatted,message,params}; logentry is its newer name.</summary>
    private static (string? Formatted, string? Template) Message(FieldReader reader)
    {
        foreach (var name in (string[])["logentry", "message", "sentry.interfaces.Message"])
        {
            if (!reader.Json.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            if (value.ValueKind == JsonValueKind.String)
            {
                return (Clean(value.GetString()), null);
            }
            if (value.ValueKind == JsonValueKind.Object)
            {
                var entry = reader.Child(value, name);
                var template = entry.String("message");
                var formatted = entry.String("formatted") ?? Format(template, value);
                return (formatted ?? template, formatted is not null && template != formatted ? template : null);
            }
            reader.Invalid(name, "expected a string or an object with 'message' or 'formatted'");
        }
        return (null, null);
    }

    /// <summary>Fills %s-style or {0}-style parameters, as Sentry does when only message and params are sent.</summary>
    private static string? Format(string? template, JsonElement entry)
    {
        if (template is null || !entry.TryGetProperty("params", out var parameters) || parameters.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var values = parameters.EnumerateArray().Select(p => p.ValueKind == JsonValueKind.String ? p.GetString() ?? "" : p.GetRawText()).ToArray();
        var index = 0;
        var result = PercentPlaceholder().Replace(template, _ => index < values.Length ? values[index++] : "%s");
        for (var i = 0; i < values.Length; i++)
        {
            result = result.Replace("{" + i.ToString(CultureInfo.InvariantCulture) + "}", values[i], StringComparison.Ordinal);
        }
        return Clean(result);
    }

    [System.Text.RegularExpressions.GeneratedRegex("%[sdif]")]
    private static partial System.Text.RegularExpressions.Regex PercentPlaceholder();

    private Dictionary<string, string> Tags(FieldReader reader)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!reader.Json.TryGetProperty("tags", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return tags;
        }
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in value.EnumerateObject())
            {
                AddTag(tags, property.Name, property.Value);
            }
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            // Older SDKs send [[key, value], ...].
            foreach (var pair in value.EnumerateArray())
            {
                if (pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() == 2 && pair[0].ValueKind == JsonValueKind.String)
                {
                    AddTag(tags, pair[0].GetString()!, pair[1]);
                }
                else
                {
                    reader.Invalid("tags", "a list of tags must hold [key, value] pairs");
                }
            }
        }
        else
        {
            reader.Invalid("tags", "expected an object of key/value pairs");
        }
        return tags;
    }

    private void AddTag(Dictionary<string, string> tags, string key, JsonElement value)
    {
        if (tags.Count >= options.MaxTags)
        {
            return;
        }
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => null,
        };
        var cleanKey = Clean(key).Trim();
        if (text is not null && cleanKey.Length > 0)
        {
            tags[Truncate(cleanKey, options.MaxTagLength)] = Truncate(Clean(text), options.MaxTagLength);
        }
    }

    private UserInfo? User(FieldReader reader)
    {
        var user = reader.Object("user") ?? reader.Object("sentry.interfaces.User");
        if (user is null)
        {
            return null;
        }
        var info = new UserInfo
        {
            Id = Short(user.String("id")),
            Email = Short(user.String("email")),
            Username = Short(user.String("username")),
            IpAddress = Short(user.String("ip_address")),
        };
        return info.Id is null && info.Email is null && info.Username is null && info.IpAddress is null ? null : info;
    }

    private SdkInfo? Sdk(FieldReader reader)
    {
        var sdk = reader.Object("sdk");
        return sdk is null ? null : new SdkInfo { Name = Short(sdk.String("name")), Version = Short(sdk.String("version")) };
    }

    private IReadOnlyList<string>? Fingerprint(FieldReader reader)
    {
        if (!reader.Json.TryGetProperty("fingerprint", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            reader.Invalid("fingerprint", "expected a list of strings");
            return null;
        }
        var parts = value.EnumerateArray()
            .Where(p => p.ValueKind is JsonValueKind.String or JsonValueKind.Number)
            .Select(p => Truncate(Clean(p.ValueKind == JsonValueKind.String ? p.GetString() : p.GetRawText()), options.MaxShortFieldLength))
            .Take(32)
            .ToList();
        return parts.Count == 0 ? null : parts;
    }

    private string? Short(string? value) => value is null ? null : Truncate(value, options.MaxShortFieldLength);

    /// <summary>Cuts to at most <paramref name="max"/> characters, never between the two halves of a surrogate pair.</summary>
    internal static string Truncate(string value, int max)
    {
        if (value.Length <= max)
        {
            return value;
        }
        return char.IsHighSurrogate(value[max - 1]) ? value[..(max - 1)] : value[..max];
    }

    /// <summary>Removes NUL characters: PostgreSQL text and jsonb cannot hold them.</summary>
    internal static string Clean(string? value) =>
        value is null ? string.Empty : value.Contains('\0', StringComparison.Ordinal) ? value.Replace("\0", string.Empty, StringComparison.Ordinal) : value;
}
