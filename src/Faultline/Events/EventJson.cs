using System.Text.Json;
using System.Text.Json.Serialization;

namespace Faultline.Events;

/// <summary>The stored and served JSON form of events: snake_case, nulls left out, levels as words.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(FaultlineEvent))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
internal sealed partial class EventJsonContext : JsonSerializerContext;

public static class EventJson
{
    public static byte[] Serialize(FaultlineEvent e) =>
        JsonSerializer.SerializeToUtf8Bytes(e, EventJsonContext.Default.FaultlineEvent);

    /// <summary>Tags as the JSON object stored in the events.tags column.</summary>
    public static string SerializeTags(IReadOnlyDictionary<string, string> tags) =>
        JsonSerializer.Serialize(tags, EventJsonContext.Default.IReadOnlyDictionaryStringString);

    public static FaultlineEvent? Deserialize(string json) =>
        JsonSerializer.Deserialize(json, EventJsonContext.Default.FaultlineEvent);
}

/// <summary>Event ids travel as 32 hex characters, as in Sentry's protocol.</summary>
public sealed class CompactGuidConverter : JsonConverter<Guid>
{
    public override Guid Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Guid.Parse(reader.GetString() ?? throw new JsonException("Expected an event id."));

    public override void Write(Utf8JsonWriter writer, Guid value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString("N"));
}
