using System.Globalization;
using System.Text.Json;

namespace Faultline.Ingest;

/// <summary>Reads typed fields of one JSON object and reports a wrongly typed field with its path.</summary>
internal sealed class FieldReader(JsonElement json, string path, bool strict)
{
    public JsonElement Json { get; } = json;

    public string Path { get; } = path;

    public void Invalid(string name, string reason)
    {
        if (strict)
        {
            throw new EventValidationException($"{Path}.{name}", reason);
        }
    }

    public FieldReader Child(JsonElement element, string name) => new(element, $"{Path}.{name}", strict);

    public FieldReader Item(JsonElement element, string name, int index) =>
        new(element, $"{Path}.{name}[{index.ToString(CultureInfo.InvariantCulture)}]", strict);

    /// <summary>A string field; numbers and booleans are accepted as their text (SDKs send release: 123).</summary>
    public string? String(string name)
    {
        if (!Json.TryGetProperty(name, out var value))
        {
            return null;
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var text = EventNormalizer.Clean(value.GetString());
                return text.Length == 0 ? null : text;
            case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                return value.GetRawText();
            case JsonValueKind.Null:
                return null;
            default:
                Invalid(name, "expected a string");
                return null;
        }
    }

    public int? Int(string name)
    {
        if (!Json.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && number is >= int.MinValue and <= int.MaxValue)
        {
            return (int)number;
        }
        Invalid(name, "expected an integer");
        return null;
    }

    public bool? Bool(string name)
    {
        if (!Json.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }
        Invalid(name, "expected true or false");
        return null;
    }

    public FieldReader? Object(string name)
    {
        if (!Json.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Object)
        {
            return Child(value, name);
        }
        Invalid(name, "expected an object");
        return null;
    }

    /// <summary>Lists that Sentry sends either bare or wrapped as {"values": [...]}.</summary>
    public JsonElement? ListOrValues(string name)
    {
        if (!Json.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Array)
        {
            return value;
        }
        if (value.ValueKind == JsonValueKind.Object)
        {
            if (value.TryGetProperty("values", out var values) && values.ValueKind == JsonValueKind.Array)
            {
                return values;
            }
            if (!value.TryGetProperty("values", out _))
            {
                return null;
            }
        }
        Invalid(name, "expected a list or an object with a 'values' list");
        return null;
    }

    /// <summary>Free-form JSON kept as sent (extra, contexts, request); must be an object.</summary>
    public JsonElement? Passthrough(string name)
    {
        if (!Json.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            Invalid(name, "expected an object");
            return null;
        }
        return JsonCleaner.Clean(value);
    }
}
