using System.Text.Json;

namespace Faultline.Ingest;

/// <summary>Copies free-form JSON out of a request's document, without NUL characters (PostgreSQL's jsonb refuses them).</summary>
internal static class JsonCleaner
{
    public static JsonElement Clean(JsonElement value)
    {
        if (!value.GetRawText().Contains("\\u0000", StringComparison.Ordinal))
        {
            return value.Clone();
        }
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, value);
        }
        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }

    private static void Write(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject())
                {
                    writer.WritePropertyName(EventNormalizer.Clean(property.Name));
                    Write(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(EventNormalizer.Clean(value.GetString()));
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }
}
