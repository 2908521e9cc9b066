namespace Faultline.Events;

public static class EventLevels
{
    public static string ToWire(this EventLevel level) => level switch
    {
        EventLevel.Debug => "debug",
        EventLevel.Info => "info",
        EventLevel.Warning => "warning",
        EventLevel.Error => "error",
        EventLevel.Fatal => "fatal",
        _ => "error",
    };

    /// <summary>Parses a level name; accepts the aliases SDKs and log libraries send (warn, critical, log).</summary>
    public static bool TryParse(string? text, out EventLevel level)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "debug" or "trace": level = EventLevel.Debug; return true;
            case "info" or "log" or "information" or "notice": level = EventLevel.Info; return true;
            case "warning" or "warn": level = EventLevel.Warning; return true;
            case "error" or "err": level = EventLevel.Error; return true;
            case "fatal" or "critical" or "crit" or "emergency" or "alert": level = EventLevel.Fatal; return true;
            default: level = EventLevel.Error; return false;
        }
    }
}
