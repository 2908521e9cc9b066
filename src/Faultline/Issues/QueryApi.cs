using System.Security.Claims;
using Faultline.Accounts;
using Faultline.Search;
using Faultline.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Faultline.Issues;

public sealed record ProjectResponse(long Id, long OrganizationId, string Organization, string Name, string Slug, DateTimeOffset CreatedAt, IReadOnlyList<ProjectKeyResponse>? Keys);

public sealed record ProjectKeyResponse(string PublicKey, string Dsn, DateTimeOffset CreatedAt, bool Revoked);

/// <summary>The read and triage API under /api/v1, authenticated by API token and scoped to the caller's organizations.</summary>
public static class QueryApi
{
    public static IEndpointRouteBuilder MapQueryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().AddEndpointFilter<QueryErrorFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/projects", ListProjectsAsync).WithName("ListProjects").WithTags("Projects").WithSummary("Projects in the caller's organizations");
        api.MapGet("/projects/{projectId:long}", GetProjectAsync).WithName("GetProject").WithTags("Projects").WithSummary("A project with its keys and DSNs");
        api.MapGet("/projects/{projectId:long}/issues", ListIssuesAsync).WithName("ListIssues").WithTags("Issues")
            .WithSummary("Issues of a project: filter, search, sort, cursor pagination");
        api.MapGet("/issues/{issueId:long}", GetIssueAsync).WithName("GetIssue").WithTags("Issues").WithSummary("One issue");
        api.MapPatch("/issues/{issueId:long}", UpdateIssueAsync).WithName("UpdateIssue").WithTags("Issues")
            .WithSummary("Resolve, ignore, reopen or mark reviewed");
        api.MapGet("/issues/{issueId:long}/events", ListIssueEventsAsync).WithName("ListIssueEvents").WithTags("Events").WithSummary("Events of one issue, newest first");
        api.MapGet("/events/{eventId}", GetEventAsync).WithName("GetEvent").WithTags("Events").WithSummary("One event with its full payload");
        api.MapGet("/projects/{projectId:long}/events", SearchEventsAsync).WithName("SearchEvents").WithTags("Events").WithSummary("Search a project's events");
        api.MapGet("/projects/{projectId:long}/stats", StatsAsync).WithName("EventStats").WithTags("Events").WithSummary("Event counts per interval, for charts");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<ProjectResponse>>> ListProjectsAsync(ClaimsPrincipal user, IAccountStore store, CancellationToken cancellationToken)
    {
        var projects = await store.ListProjectsForUserAsync(user.UserId(), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ProjectResponse>>(projects.Select(p => ToResponse(p, null)).ToList());
    }

    private static async Task<Results<Ok<ProjectResponse>, NotFound>> GetProjectAsync(long projectId, ClaimsPrincipal user, IAccountStore store, AccountService accounts, CancellationToken cancellationToken)
    {
        var project = await store.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken);
        if (project is null)
        {
            return TypedResults.NotFound();
        }
        var keys = await store.ListProjectKeysAsync(projectId, cancellationToken);
        return TypedResults.Ok(ToResponse(project, keys.Select(k => new ProjectKeyResponse(k.PublicKey, accounts.Dsn(k.PublicKey, projectId), k.CreatedAt, k.RevokedAt is not null)).ToList()));
    }

    private static async Task<Results<Ok<PageResponse<IssueResponse>>, NotFound>> ListIssuesAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, IIssueStore issues, TimeProvider time, CancellationToken cancellationToken,
        string? query = null, string? status = null, string? level = null, string? environment = null, string? release = null,
        DateTimeOffset? since = null, DateTimeOffset? until = null, string? sort = null, int? limit = null, string? cursor = null)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        var search = QueryRequests.Build(query, status, level, environment, release, since, until, time.GetUtcNow());
        var page = await issues.ListIssuesAsync(projectId, new IssueListRequest(search, QueryRequests.Sort(sort), QueryRequests.Limit(limit), cursor), cancellationToken);
        return TypedResults.Ok(new PageResponse<IssueResponse>(page.Items.Select(IssueResponse.From).ToList(), page.NextCursor));
    }

    private static async Task<Results<Ok<IssueResponse>, NotFound>> GetIssueAsync(long issueId, ClaimsPrincipal user, IIssueStore issues, CancellationToken cancellationToken)
    {
        var issue = await issues.GetIssueForUserAsync(user.UserId(), issueId, cancellationToken);
        return issue is null ? TypedResults.NotFound() : TypedResults.Ok(IssueResponse.From(issue));
    }

    private static async Task<Results<Ok<IssueResponse>, NotFound, ProblemHttpResult>> UpdateIssueAsync(
        long issueId, IssueUpdateRequest body, ClaimsPrincipal user, IIssueStore issues, TimeProvider time, CancellationToken cancellationToken)
    {
        IssueStatus? status = body.Status?.Trim().ToLowerInvariant() switch
        {
            null => null,
            "resolved" => IssueStatus.Resolved,
            "unresolved" or "reopen" => IssueStatus.Unresolved,
            "ignored" => IssueStatus.Ignored,
            _ => throw new BadQueryException($"status must be resolved, unresolved or ignored, not '{body.Status}'."),
        };
        if (status is null && body.Reviewed is null)
        {
            throw new BadQueryException("Send at least one of status and reviewed.");
        }
        if (await issues.GetIssueForUserAsync(user.UserId(), issueId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        var updated = await issues.UpdateIssueAsync(issueId, new IssueUpdate(status, body.Reviewed), time.GetUtcNow(), cancellationToken);
        return updated is null ? TypedResults.NotFound() : TypedResults.Ok(IssueResponse.From(updated));
    }

    private static async Task<Results<Ok<PageResponse<EventResponse>>, NotFound>> ListIssueEventsAsync(
        long issueId, ClaimsPrincipal user, IIssueStore issues, TimeProvider time, CancellationToken cancellationToken,
        string? query = null, int? limit = null, string? cursor = null)
    {
        var issue = await issues.GetIssueForUserAsync(user.UserId(), issueId, cancellationToken);
        if (issue is null)
        {
            return TypedResults.NotFound();
        }
        var search = QueryParser.Parse(query, time.GetUtcNow());
        var page = await issues.ListEventsAsync(issue.ProjectId, new EventListRequest(search, issueId, QueryRequests.Limit(limit), cursor), cancellationToken);
        return TypedResults.Ok(new PageResponse<EventResponse>(page.Items.Select(EventResponse.From).ToList(), page.NextCursor));
    }

    private static async Task<Results<Ok<EventResponse>, NotFound>> GetEventAsync(string eventId, ClaimsPrincipal user, IIssueStore issues, CancellationToken cancellationToken)
    {
        if (!Guid.TryParseExact(eventId, "N", out var id) && !Guid.TryParseExact(eventId, "D", out id))
        {
            throw new BadQueryException("eventId must be 32 hexadecimal characters or a UUID.");
        }
        var e = await issues.GetEventForUserAsync(user.UserId(), id, cancellationToken);
        return e is null ? TypedResults.NotFound() : TypedResults.Ok(EventResponse.From(e));
    }

    private static async Task<Results<Ok<PageResponse<EventResponse>>, NotFound>> SearchEventsAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, IIssueStore issues, TimeProvider time, CancellationToken cancellationToken,
        string? query = null, string? level = null, string? environment = null, string? release = null,
        DateTimeOffset? since = null, DateTimeOffset? until = null, int? limit = null, string? cursor = null)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        var search = QueryRequests.Build(query, null, level, environment, release, since, until, time.GetUtcNow());
        var page = await issues.ListEventsAsync(projectId, new EventListRequest(search, null, QueryRequests.Limit(limit), cursor), cancellationToken);
        return TypedResults.Ok(new PageResponse<EventResponse>(page.Items.Select(EventResponse.From).ToList(), page.NextCursor));
    }

    private static async Task<Results<Ok<StatsResponse>, NotFound>> StatsAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, IIssueStore issues, TimeProvider time, CancellationToken cancellationToken,
        string? query = null, DateTimeOffset? since = null, DateTimeOffset? until = null, int? interval = null)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        var now = time.GetUtcNow();
        var step = TimeSpan.FromSeconds(interval ?? 3600);
        if (step < TimeSpan.FromSeconds(10))
        {
            throw new BadQueryException("interval (seconds) must be at least 10.");
        }
        var end = until ?? now;
        // Buckets start on whole intervals (12:00, 13:00), so charts line up across requests.
        var start = AlignDown(since ?? end.AddHours(-24), step);
        if (start >= end || (end - start) / step > 1000)
        {
            throw new BadQueryException("since must be before until, with at most 1000 intervals in the range.");
        }
        var search = QueryParser.Parse(query, now);
        // Time bounds typed in the query narrow the range like the parameters do.
        if (search.Since > start)
        {
            start = AlignDown(search.Since.Value, step);
        }
        if (search.Until < end)
        {
            end = search.Until.Value;
        }
        if (start >= end)
        {
            throw new BadQueryException("The query's time range is empty.");
        }
        var buckets = await issues.GetEventStatsAsync(projectId, search, start, end, step, cancellationToken);
        return TypedResults.Ok(new StatsResponse(start, end, (int)step.TotalSeconds, buckets.Select(b => new StatsPoint(b.Start, b.Count)).ToList()));
    }

    private static DateTimeOffset AlignDown(DateTimeOffset value, TimeSpan step) =>
        new(value.UtcTicks - ((value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) % step.Ticks), TimeSpan.Zero);

    private static ProjectResponse ToResponse(ProjectRecord p, IReadOnlyList<ProjectKeyResponse>? keys) =>
        new(p.Id, p.OrganizationId, p.OrganizationSlug, p.Name, p.Slug, p.CreatedAt, keys);

    /// <summary>Client mistakes in queries become 400 ProblemDetails that say what is wrong.</summary>
    private sealed class QueryErrorFilter : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            try
            {
                return await next(context);
            }
            catch (QuerySyntaxException e)
            {
                return TypedResults.Problem(e.Message, statusCode: 400, title: "Invalid query",
                    extensions: new Dictionary<string, object?> { ["position"] = e.Position });
            }
            catch (Exception e) when (e is BadQueryException or InvalidCursorException)
            {
                return TypedResults.Problem(e.Message, statusCode: 400, title: "Invalid request");
            }
        }
    }
}
