using System.Text.Json;
using Faultline.Events;
using Faultline.Storage;

namespace Faultline.Issues;

public sealed record PageResponse<T>(IReadOnlyList<T> Items, string? NextCursor);

public sealed record IssueResponse(
    long Id, long ProjectId, string Title, string? Culprit, string Level, string Status, bool Regressed, bool Reviewed,
    long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, DateTimeOffset? ResolvedAt)
{
    public static IssueResponse From(IssueRecord i) => new(
        i.Id, i.ProjectId, i.Title, i.Culprit, i.Level.ToWire(), i.Status.ToString().ToLowerInvariant(), i.Regressed, i.Reviewed,
        i.TimesSeen, i.FirstSeen, i.LastSeen, i.ResolvedAt);
}

/// <summary>An event; <see cref="Event"/> is the full normalised event in the native (snake_case) schema.</summary>
public sealed record EventResponse(
    string EventId, long ProjectId, long IssueId, DateTimeOffset ReceivedAt, DateTimeOffset Timestamp, string Level,
    string? Message, string? ExceptionType, string? ExceptionValue, string? Environment, string? Release, string? Logger,
    JsonElement Event)
{
    public static EventResponse From(EventRecord e)
    {
        using var payload = JsonDocument.Parse(e.Payload);
        return new(e.EventId.ToString("N"), e.ProjectId, e.IssueId, e.ReceivedAt, e.Timestamp, e.Level.ToWire(),
            e.Message, e.ExceptionType, e.ExceptionValue, e.Environment, e.Release, e.Logger, payload.RootElement.Clone());
    }
}

/// <summary>PATCH body: any of the fields; absent fields stay as they are.</summary>
public sealed record IssueUpdateRequest(string? Status, bool? Reviewed);

public sealed record StatsResponse(DateTimeOffset Since, DateTimeOffset Until, int IntervalSeconds, IReadOnlyList<StatsPoint> Points);

public sealed record StatsPoint(DateTimeOffset Start, long Count);
