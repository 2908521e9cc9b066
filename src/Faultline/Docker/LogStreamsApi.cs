using System.Security.Claims;
using Faultline.Accounts;
using Faultline.Retention;
using Faultline.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Faultline.Docker;

/// <summary>
/// A container's log stream as the API shows it. Critical: marked critical through the API (configuration
/// may make a stream critical too); AwaitingReview: kept lines arrived since the last review; KeptIssues:
/// issues of the stream held back from retention; EventsQuery: the search that finds the stream's events.
/// </summary>
public sealed record LogStreamResponse(
    long Id, long ProjectId, string Name, string? ContainerId, string? Image, string? Host, string? Source,
    DateTimeOffset FirstSeen, DateTimeOffset LastSeen, long Events, long Errors,
    bool Critical, bool AwaitingReview, DateTimeOffset? ReviewedAt, int KeptIssues, string EventsQuery)
{
    public static LogStreamResponse From(LogStreamRecord s) =>
        new(s.Id, s.ProjectId, s.Name, s.ContainerId, s.Image, s.Host, s.Source, s.FirstSeen, s.LastSeen, s.Events, s.Errors,
            s.Critical, s.AwaitingReview, s.ReviewedAt, s.KeptIssues, EventsQueryFor(s.Name));

    /// <summary>A tag term, quoted when the name has characters the query language would split on.</summary>
    public static string EventsQueryFor(string name) =>
        name.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or '/')
            ? $"container_name:{name}"
            : $"container_name:\"{name.Replace("\"", "", StringComparison.Ordinal)}\"";
}

public sealed record LogStreamUpdate(bool? Critical);

/// <summary>The stream after the review and the issues it released to retention.</summary>
public sealed record LogStreamReviewResponse(LogStreamResponse Stream, IReadOnlyList<long> ReleasedIssues);

/// <summary>Log stream endpoints under /api/v1, by API token, scoped to the caller's organizations.</summary>
public static class LogStreamsApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    internal const string CriticalAction = "mark log streams critical or not critical";

    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/projects/{projectId:long}/streams").RequireAuthorization().WithTags("Docker")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("", ListAsync).WithName("ListLogStreams")
            .WithSummary("The container log streams the project received (syslog, GELF, engine watcher), most recently seen first");
        api.MapGet("/{streamId:long}", GetAsync).WithName("GetLogStream")
            .WithSummary("One log stream: container details, counts, critical and review state");
        api.MapPatch("/{streamId:long}", UpdateAsync).WithName("UpdateLogStream")
            .WithSummary("Mark a stream critical (its lines are kept until reviewed) or not critical; owners and admins only")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/{streamId:long}/review", ReviewAsync).WithName("ReviewLogStream")
            .WithSummary("Mark the stream's kept lines reviewed: retention may archive and delete them again");
        return app;
    }

    private static async Task<Results<Ok<IReadOnlyList<LogStreamResponse>>, ProblemHttpResult>> ListAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, ILogStreamStore streams, CancellationToken cancellationToken,
        bool? critical = null, int? limit = null)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is null)
        {
            return ProjectNotFound(projectId);
        }
        if (limit is < 1 or > MaxLimit)
        {
            return TypedResults.Problem(title: "Bad request", detail: $"limit must be between 1 and {MaxLimit}.", statusCode: StatusCodes.Status400BadRequest);
        }
        var list = await streams.ListStreamsAsync(projectId, critical, limit ?? DefaultLimit, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<LogStreamResponse>>(list.Select(LogStreamResponse.From).ToList());
    }

    private static async Task<Results<Ok<LogStreamResponse>, ProblemHttpResult>> GetAsync(
        long projectId, long streamId, ClaimsPrincipal user, IAccountStore accounts, ILogStreamStore streams, CancellationToken cancellationToken)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is null)
        {
            return ProjectNotFound(projectId);
        }
        return await streams.GetStreamAsync(projectId, streamId, cancellationToken) is { } stream
            ? TypedResults.Ok(LogStreamResponse.From(stream))
            : StreamNotFound(projectId, streamId);
    }

    private static async Task<Results<Ok<LogStreamResponse>, ProblemHttpResult>> UpdateAsync(
        long projectId, long streamId, LogStreamUpdate body, ClaimsPrincipal user, IAccountStore accounts, IAccountAdminStore memberships,
        ILogStreamStore streams, LogStreamTracker tracker, CancellationToken cancellationToken)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is not { } project)
        {
            return ProjectNotFound(projectId);
        }
        // Critical is a retention policy for the stream (its issues are kept); reviewing stays open to every member.
        if (await RetentionApi.CannotEditAsync(user.UserId(), project.OrganizationId, memberships, cancellationToken, CriticalAction) is { } forbidden)
        {
            return forbidden;
        }
        if (body.Critical is not { } critical)
        {
            return TypedResults.Problem(title: "Bad request", detail: "Send {\"critical\": true} or {\"critical\": false}.", statusCode: StatusCodes.Status400BadRequest);
        }
        if (await streams.SetStreamCriticalAsync(projectId, streamId, critical, cancellationToken) is not { } stream)
        {
            return StreamNotFound(projectId, streamId);
        }
        tracker.SetCritical(projectId, stream.Name, critical);
        return TypedResults.Ok(LogStreamResponse.From(stream));
    }

    private static async Task<Results<Ok<LogStreamReviewResponse>, ProblemHttpResult>> ReviewAsync(
        long projectId, long streamId, ClaimsPrincipal user, IAccountStore accounts, ILogStreamStore streams, CriticalIssueMarker marker,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is null)
        {
            return ProjectNotFound(projectId);
        }
        if (await streams.ReviewStreamAsync(projectId, streamId, time.GetUtcNow(), cancellationToken) is not { } released)
        {
            return StreamNotFound(projectId, streamId);
        }
        marker.Forget(released);
        var stream = await streams.GetStreamAsync(projectId, streamId, cancellationToken);
        return TypedResults.Ok(new LogStreamReviewResponse(LogStreamResponse.From(stream!), released));
    }

    private static ProblemHttpResult ProjectNotFound(long projectId) =>
        TypedResults.Problem(title: "Not found", detail: $"Project {projectId} does not exist or is not in one of your organizations.", statusCode: StatusCodes.Status404NotFound);

    private static ProblemHttpResult StreamNotFound(long projectId, long streamId) =>
        TypedResults.Problem(title: "Not found", detail: $"Project {projectId} has no log stream {streamId}.", statusCode: StatusCodes.Status404NotFound);
}
