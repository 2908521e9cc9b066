namespace Faultline.Ingest;

/// <summary>Client input that cannot be accepted; <see cref="Field"/> is a JSON path such as events[2].level.</summary>
public sealed class EventValidationException(string field, string reason)
    : Exception($"{field}: {reason}")
{
    public string Field { get; } = field;
    public string Reason { get; } = reason;
}
