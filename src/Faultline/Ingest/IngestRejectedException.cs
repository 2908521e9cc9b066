namespace Faultline.Ingest;

/// <summary>A request refused before any event was accepted: status code, a metrics reason and a message for the client.</summary>
public sealed class IngestRejectedException(int statusCode, string reason, string detail) : Exception(detail)
{
    public int StatusCode { get; } = statusCode;
    public string Reason { get; } = reason;
    public string Detail { get; } = detail;
    public TimeSpan? RetryAfter { get; init; }

    public static IngestRejectedException TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, "too_large", detail);

    public static IngestRejectedException Malformed(string detail) => new(StatusCodes.Status400BadRequest, "malformed", detail);
}
