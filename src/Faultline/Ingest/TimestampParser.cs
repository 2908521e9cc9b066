using System.Globalization;
using System.Text.Json;

namespace Faultline.Ingest;

/// <summary>Timestamps as SDKs send them: RFC 3339 strings (.NET) or epoch seconds, integer or fractional (JavaScript).</summary>
public static class TimestampParser
{
    // Years 1970..9999: anything outside is a bug in the sender, not a time.
    private const double MaxEpochSeconds = 253_402_300_799;

    public static bool TryParse(JsonElement value, out DateTimeOffset timestamp)
    {
        timestamp = default;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds))
        {
            return TryFromEpoch(seconds, out timestamp);
        }
        return value.ValueKind == JsonValueKind.String && TryParse(value.GetString(), out timestamp);
    }

    public static bool TryParse(string? text, out DateTimeOffset timestamp)
    {
        timestamp = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return TryFromEpoch(seconds, out timestamp);
        }
        // Without an offset a timestamp is UTC, as in Sentry's protocol.
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timestamp);
    }

    private static bool TryFromEpoch(double seconds, out DateTimeOffset timestamp)
    {
        timestamp = default;
        if (double.IsNaN(seconds) || seconds < 0 || seconds > MaxEpochSeconds)
        {
            return false;
        }
        timestamp = DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond));
        return true;
    }
}
