using Faultline.Events;
using Faultline.Pipeline;
using Faultline.Storage;

namespace Faultline.Tests.Infrastructure;

/// <summary>Small events for store and API tests.</summary>
public static class EventBuilder
{
    public static FaultlineEvent Exception(string type, string value, string function = "PlaceOrder", DateTimeOffset? at = null, EventLevel level = EventLevel.Error,
        string? environment = "production", string? release = "1.0.0", IReadOnlyDictionary<string, string>? tags = null, Guid? id = null) => new()
    {
        EventId = id ?? Guid.NewGuid(),
        Timestamp = at ?? DateTimeOffset.UtcNow,
        Level = level,
        Environment = environment,
        Release = release,
        Tags = tags ?? new Dictionary<string, string>(),
        Exceptions =
        [
            new ExceptionInfo
            {
                Type = type,
                Value = value,
                Frames =
                [
                    new StackFrame { Module = "Shop.Web", Function = "Main", InApp = true, Lineno = 10 },
                    new StackFrame { Module = "Shop.Orders", Function = function, InApp = true, Lineno = 42 },
                ],
            },
        ],
    };

    public static FaultlineEvent Message(string message, DateTimeOffset? at = null, EventLevel level = EventLevel.Info, string? environment = "production", Guid? id = null) => new()
    {
        EventId = id ?? Guid.NewGuid(),
        Timestamp = at ?? DateTimeOffset.UtcNow,
        Level = level,
        Message = message,
        Environment = environment,
    };

    public static PreparedEvent Prepare(long projectId, FaultlineEvent e, DateTimeOffset? receivedAt = null) =>
        IngestPipeline.Prepare(projectId, e, receivedAt ?? DateTimeOffset.UtcNow);
}
