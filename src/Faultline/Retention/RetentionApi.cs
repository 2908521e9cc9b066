using System.Security.Claims;
using Faultline.Accounts;
using Faultline.Events;
using Faultline.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Faultline.Retention;

public sealed record RetentionPolicyDto(int HotDays, int ArchiveDays, bool KeepUnreviewed, string KeepMinimumLevel)
{
    public static RetentionPolicyDto? From(RetentionPolicy? policy) =>
        policy is null ? null : new(policy.HotDays, policy.ArchiveDays, policy.KeepUnreviewed, policy.KeepMinimumLevel.ToWire());
}

/// <summary>Fields left out keep their current (effective) value.</summary>
public sealed record RetentionPolicyRequest(int? HotDays, int? ArchiveDays, bool? KeepUnreviewed, string? KeepMinimumLevel);

/// <summary>A project's policy: the one in force, where it comes from, and each level that could supply it.</summary>
public sealed record ProjectRetentionResponse(long ProjectId, RetentionPolicyDto Effective, string Source, RetentionPolicyDto? Project, RetentionPolicyDto? Organization, RetentionPolicyDto Server);

public sealed record OrganizationRetentionResponse(long OrganizationId, RetentionPolicyDto Effective, string Source, RetentionPolicyDto? Organization, RetentionPolicyDto Server);

public sealed record ArchiveObjectResponse(DateOnly Day, int Sequence, string State, long? Events, long? Bytes, long? UncompressedBytes, string? Sha256, string ObjectKey, DateTimeOffset UpdatedAt)
{
    public static ArchiveObjectResponse From(ArchiveBatch b) =>
        new(b.Day, b.Sequence, b.State.ToString().ToLowerInvariant(), b.Info?.Events, b.Info?.Bytes, b.Info?.UncompressedBytes, b.Info?.Sha256, b.ObjectKey, b.UpdatedAt);
}

public sealed record RestoreRequest(DateOnly? From, DateOnly? To);

/// <summary>An issue whose events the sweep keeps hot: why (its keep_until_reviewed flag, or "keep unreviewed" at its level), and how many of its events are past hot retention.</summary>
public sealed record KeptIssueResponse(long IssueId, string Title, string Level, string Status, string Reason, bool KeepUntilReviewed, long HeldEvents, DateTimeOffset? OldestHeldEvent);

/// <summary>A page of kept issues; events received before <see cref="HotCutoff"/> would have been archived.</summary>
public sealed record KeptIssuesResponse(long ProjectId, DateTimeOffset HotCutoff, IReadOnlyList<KeptIssueResponse> Items, string? NextCursor);

/// <summary>An issue's retention state: its flag, and whether (and why) the sweep keeps its events hot now.</summary>
public sealed record IssueRetentionResponse(long IssueId, long ProjectId, bool KeepUntilReviewed, bool Reviewed, string Status, bool Kept, string? Reason);

public sealed record IssueRetentionRequest(bool? KeepUntilReviewed);

/// <summary>Retention policy and archive endpoints under /api/v1, by API token, scoped to the caller's organizations.</summary>
public static class RetentionApi
{
    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Retention")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);
        api.MapGet("/projects/{projectId:long}/retention", GetProjectAsync).WithName("GetProjectRetention")
            .WithSummary("The project's retention policy, where it comes from, and the organization and server defaults");
        api.MapPut("/projects/{projectId:long}/retention", PutProjectAsync).WithName("SetProjectRetention").ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("Set the project's own policy (fields left out keep their current value)");
        api.MapDelete("/projects/{projectId:long}/retention", DeleteProjectAsync).WithName("ClearProjectRetention").ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("Remove the project's own policy: it inherits the organization's or the server's");
        api.MapGet("/organizations/{organizationId:long}/retention", GetOrganizationAsync).WithName("GetOrganizationRetention")
            .WithSummary("The organization's default policy for its projects");
        api.MapPut("/organizations/{organizationId:long}/retention", PutOrganizationAsync).WithName("SetOrganizationRetention").ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("Set the organization's default policy (fields left out keep their current value)");
        api.MapDelete("/organizations/{organizationId:long}/retention", DeleteOrganizationAsync).WithName("ClearOrganizationRetention").ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("Remove the organization's default: its projects inherit the server's");
        api.MapGet("/projects/{projectId:long}/retention/kept", ListKeptAsync).WithName("ListKeptIssues")
            .WithSummary("Issues whose events stay hot until reviewed (flagged, or unreviewed at the policy's level), with their events past hot retention");
        api.MapGet("/issues/{issueId:long}/retention", GetIssueRetentionAsync).WithName("GetIssueRetention")
            .WithSummary("Whether the issue's events are kept hot until it is reviewed, and why");
        api.MapPut("/issues/{issueId:long}/retention", PutIssueRetentionAsync).WithName("SetIssueRetention")
            .WithSummary("Set or clear the issue's keep_until_reviewed flag (marking it reviewed or resolved also ends the keeping)");
        api.MapGet("/projects/{projectId:long}/archive", ListArchiveAsync).WithName("ListArchive")
            .WithSummary("The project's archive objects (one per project, day and part) with their state, counts and checksums");
        api.MapPost("/projects/{projectId:long}/archive/restore", RestoreAsync).WithName("RestoreArchive")
            .WithSummary("Bring archived days back into searchable storage, marked restored (swept again later); owners and admins only")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    private static async Task<Results<Ok<ProjectRetentionResponse>, NotFound>> GetProjectAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, RetentionPolicies policies, CancellationToken cancellationToken)
    {
        var project = await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken);
        return project is null ? TypedResults.NotFound() : TypedResults.Ok(await ProjectResponseAsync(project, policies, cancellationToken));
    }

    private static async Task<Results<Ok<ProjectRetentionResponse>, NotFound, ProblemHttpResult>> PutProjectAsync(
        long projectId, RetentionPolicyRequest body, ClaimsPrincipal user, IAccountStore accounts, IAccountAdminStore memberships, IRetentionStore store,
        RetentionPolicies policies, TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken);
        if (project is null)
        {
            return TypedResults.NotFound();
        }
        if (await CannotEditAsync(user.UserId(), project.OrganizationId, memberships, cancellationToken) is { } forbidden)
        {
            return forbidden;
        }
        var current = (await policies.GetAsync(project, cancellationToken)).Policy;
        if (Merge(current, body, out var error) is not { } policy)
        {
            return BadPolicy(error);
        }
        await store.SetRetentionPolicyAsync(RetentionScope.Project, projectId, policy, time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(await ProjectResponseAsync(project, policies, cancellationToken));
    }

    private static async Task<Results<Ok<ProjectRetentionResponse>, NotFound, ProblemHttpResult>> DeleteProjectAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, IAccountAdminStore memberships, IRetentionStore store, RetentionPolicies policies,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken);
        if (project is null)
        {
            return TypedResults.NotFound();
        }
        if (await CannotEditAsync(user.UserId(), project.OrganizationId, memberships, cancellationToken) is { } forbidden)
        {
            return forbidden;
        }
        await store.SetRetentionPolicyAsync(RetentionScope.Project, projectId, null, time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(await ProjectResponseAsync(project, policies, cancellationToken));
    }

    private static async Task<Results<Ok<OrganizationRetentionResponse>, NotFound>> GetOrganizationAsync(
        long organizationId, ClaimsPrincipal user, IRetentionStore store, RetentionPolicies policies, CancellationToken cancellationToken)
    {
        if (!await store.IsOrganizationMemberAsync(user.UserId(), organizationId, cancellationToken))
        {
            return TypedResults.NotFound();
        }
        return TypedResults.Ok(await OrganizationResponseAsync(organizationId, store, policies, cancellationToken));
    }

    private static async Task<Results<Ok<OrganizationRetentionResponse>, NotFound, ProblemHttpResult>> PutOrganizationAsync(
        long organizationId, RetentionPolicyRequest body, ClaimsPrincipal user, IAccountAdminStore memberships, IRetentionStore store, RetentionPolicies policies,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await store.IsOrganizationMemberAsync(user.UserId(), organizationId, cancellationToken))
        {
            return TypedResults.NotFound();
        }
        if (await CannotEditAsync(user.UserId(), organizationId, memberships, cancellationToken) is { } forbidden)
        {
            return forbidden;
        }
        var current = await store.GetRetentionPolicyAsync(RetentionScope.Organization, organizationId, cancellationToken) ?? policies.Server;
        if (Merge(current, body, out var error) is not { } policy)
        {
            return BadPolicy(error);
        }
        await store.SetRetentionPolicyAsync(RetentionScope.Organization, organizationId, policy, time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(await OrganizationResponseAsync(organizationId, store, policies, cancellationToken));
    }

    private static async Task<Results<Ok<OrganizationRetentionResponse>, NotFound, ProblemHttpResult>> DeleteOrganizationAsync(
        long organizationId, ClaimsPrincipal user, IAccountAdminStore memberships, IRetentionStore store, RetentionPolicies policies, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!await store.IsOrganizationMemberAsync(user.UserId(), organizationId, cancellationToken))
        {
            return TypedResults.NotFound();
        }
        if (await CannotEditAsync(user.UserId(), organizationId, memberships, cancellationToken) is { } forbidden)
        {
            return forbidden;
        }
        await store.SetRetentionPolicyAsync(RetentionScope.Organization, organizationId, null, time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(await OrganizationResponseAsync(organizationId, store, policies, cancellationToken));
    }

    private static async Task<Results<Ok<IReadOnlyList<ArchiveObjectResponse>>, NotFound>> ListArchiveAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, ArchiveRestore restore, CancellationToken cancellationToken,
        DateOnly? from = null, DateOnly? to = null)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        var batches = await restore.ListAsync(projectId, from, to, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ArchiveObjectResponse>>(batches.Select(ArchiveObjectResponse.From).ToList());
    }

    private static async Task<Results<Ok<RestoreReport>, NotFound, ProblemHttpResult>> RestoreAsync(
        long projectId, RestoreRequest body, ClaimsPrincipal user, IAccountStore accounts, IAccountAdminStore memberships, ArchiveRestore restore,
        CancellationToken cancellationToken)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is not { } project)
        {
            return TypedResults.NotFound();
        }
        // Restoring writes days of events back into the hot store (disk, search, charts): an organization-wide change.
        if (await CannotEditAsync(user.UserId(), project.OrganizationId, memberships, cancellationToken, "restore archived events") is { } forbidden)
        {
            return forbidden;
        }
        if (body.From is not { } from || body.To is not { } to)
        {
            return TypedResults.Problem(title: "Bad restore request", detail: "Send from and to as dates (yyyy-MM-dd).", statusCode: StatusCodes.Status400BadRequest);
        }
        if (from > to)
        {
            return TypedResults.Problem(title: "Bad restore request", detail: $"from ({from:yyyy-MM-dd}) is after to ({to:yyyy-MM-dd}).", statusCode: StatusCodes.Status400BadRequest);
        }
        try
        {
            return TypedResults.Ok(await restore.RestoreAsync(projectId, from, to, cancellationToken));
        }
        catch (ArchiveUnavailableException e)
        {
            return TypedResults.Problem(title: "Archive unavailable", detail: e.Message, statusCode: StatusCodes.Status409Conflict);
        }
    }

    private static async Task<Results<Ok<KeptIssuesResponse>, NotFound, ProblemHttpResult>> ListKeptAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, IRetentionStore store, RetentionPolicies policies, TimeProvider time,
        CancellationToken cancellationToken, int? limit = null, string? cursor = null)
    {
        var project = await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken);
        if (project is null)
        {
            return TypedResults.NotFound();
        }
        if (limit is < 1 or > 200)
        {
            return TypedResults.Problem(title: "Bad request", detail: "limit must be between 1 and 200.", statusCode: StatusCodes.Status400BadRequest);
        }
        long? after = null;
        if (cursor is not null)
        {
            if (!PageCursor.TryDecode(cursor, out var decoded))
            {
                return TypedResults.Problem(title: "Bad request", detail: "cursor is not one this API returned.", statusCode: StatusCodes.Status400BadRequest);
            }
            after = decoded.SortValue;
        }
        return TypedResults.Ok(await KeptIssuesAsync(project, store, policies, time, after, limit ?? 50, cancellationToken));
    }

    /// <summary>A page of the project's kept issues under its effective policy (the API and `faultline archive kept`).</summary>
    internal static async Task<KeptIssuesResponse> KeptIssuesAsync(
        ProjectRecord project, IRetentionStore store, RetentionPolicies policies, TimeProvider time, long? after, int limit, CancellationToken cancellationToken)
    {
        var policy = (await policies.GetAsync(project, cancellationToken)).Policy;
        var keep = KeepRule.Of(policy);
        var cutoff = RetentionSweep.HotCutoff(time.GetUtcNow(), policy);
        var page = await store.ListKeptIssuesAsync(project.Id, keep, cutoff, after, limit + 1, cancellationToken);
        var items = page.Take(limit).Select(k => new KeptIssueResponse(k.State.IssueId, k.Title, k.State.Level.ToWire(), k.State.Status.ToString().ToLowerInvariant(),
            k.State.KeptBy(keep)!, k.State.KeepUntilReviewed, k.HeldEvents, k.OldestHeld)).ToList();
        var next = page.Count > limit ? new PageCursor(items[^1].IssueId, items[^1].IssueId.ToString(System.Globalization.CultureInfo.InvariantCulture)).Encode() : null;
        return new KeptIssuesResponse(project.Id, cutoff, items, next);
    }

    private static async Task<Results<Ok<IssueRetentionResponse>, NotFound>> GetIssueRetentionAsync(
        long issueId, ClaimsPrincipal user, IIssueStore issues, IAccountStore accounts, IRetentionStore store, RetentionPolicies policies, CancellationToken cancellationToken)
    {
        var response = await IssueRetentionAsync(issueId, user, issues, accounts, store, policies, cancellationToken);
        return response is null ? TypedResults.NotFound() : TypedResults.Ok(response);
    }

    private static async Task<Results<Ok<IssueRetentionResponse>, NotFound, ProblemHttpResult>> PutIssueRetentionAsync(
        long issueId, IssueRetentionRequest body, ClaimsPrincipal user, IIssueStore issues, IAccountStore accounts, IRetentionStore store, RetentionPolicies policies,
        CancellationToken cancellationToken)
    {
        if (body.KeepUntilReviewed is not { } keep)
        {
            return TypedResults.Problem(title: "Bad request", detail: "Send keepUntilReviewed as true or false.", statusCode: StatusCodes.Status400BadRequest);
        }
        if (await issues.GetIssueForUserAsync(user.UserId(), issueId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        await store.SetKeepUntilReviewedAsync(issueId, keep, cancellationToken);
        var response = await IssueRetentionAsync(issueId, user, issues, accounts, store, policies, cancellationToken);
        return response is null ? TypedResults.NotFound() : TypedResults.Ok(response);
    }

    private static async Task<IssueRetentionResponse?> IssueRetentionAsync(
        long issueId, ClaimsPrincipal user, IIssueStore issues, IAccountStore accounts, IRetentionStore store, RetentionPolicies policies, CancellationToken cancellationToken)
    {
        // Scoped through the caller's organizations first; the keep state has no user check of its own.
        if (await issues.GetIssueForUserAsync(user.UserId(), issueId, cancellationToken) is not { } issue
            || await accounts.GetProjectForUserAsync(user.UserId(), issue.ProjectId, cancellationToken) is not { } project
            || await store.GetIssueKeepStateAsync(issueId, cancellationToken) is not { } state)
        {
            return null;
        }
        var reason = state.KeptBy(KeepRule.Of((await policies.GetAsync(project, cancellationToken)).Policy));
        return new IssueRetentionResponse(issueId, state.ProjectId, state.KeepUntilReviewed, state.Reviewed, state.Status.ToString().ToLowerInvariant(), reason is not null, reason);
    }

    /// <summary>
    /// Why the user may not do an organization-wide change such as editing its policies or restoring
    /// its archive (members read; owners and admins change), or null when they may.
    /// </summary>
    internal static async Task<string?> EditRefusalAsync(
        long userId, long organizationId, IAccountAdminStore memberships, CancellationToken cancellationToken, string action = "change retention policies")
    {
        var membership = await memberships.GetMembershipAsync(userId, organizationId, cancellationToken);
        return membership is null ? "You are not a member of this organization."
            : Roles.CanManage(membership.Role) ? null
            : $"Only owners and admins of {membership.Organization.Slug} can {action}; you are a {membership.Role}.";
    }

    internal static async Task<ProblemHttpResult?> CannotEditAsync(
        long userId, long organizationId, IAccountAdminStore memberships, CancellationToken cancellationToken, string action = "change retention policies") =>
        await EditRefusalAsync(userId, organizationId, memberships, cancellationToken, action) is { } refusal
            ? TypedResults.Problem(title: "Forbidden", detail: refusal, statusCode: StatusCodes.Status403Forbidden)
            : null;

    /// <summary>The current policy with the request's fields applied, or null with a message.</summary>
    internal static RetentionPolicy? Merge(RetentionPolicy current, RetentionPolicyRequest body, out string error)
    {
        var level = current.KeepMinimumLevel;
        if (body.KeepMinimumLevel is not null && !EventLevels.TryParse(body.KeepMinimumLevel, out level))
        {
            error = $"keepMinimumLevel must be debug, info, warning, error or fatal, not '{body.KeepMinimumLevel}'.";
            return null;
        }
        var policy = new RetentionPolicy(body.HotDays ?? current.HotDays, body.ArchiveDays ?? current.ArchiveDays, body.KeepUnreviewed ?? current.KeepUnreviewed, level);
        error = policy.Validate() ?? string.Empty;
        return error.Length == 0 ? policy : null;
    }

    private static ProblemHttpResult BadPolicy(string error) =>
        TypedResults.Problem(title: "Invalid retention policy", detail: error, statusCode: StatusCodes.Status400BadRequest);

    private static async Task<ProjectRetentionResponse> ProjectResponseAsync(ProjectRecord project, RetentionPolicies policies, CancellationToken cancellationToken)
    {
        var effective = await policies.GetAsync(project, cancellationToken);
        return new ProjectRetentionResponse(project.Id, RetentionPolicyDto.From(effective.Policy)!, effective.Source,
            RetentionPolicyDto.From(effective.Project), RetentionPolicyDto.From(effective.Organization), RetentionPolicyDto.From(effective.Server)!);
    }

    private static async Task<OrganizationRetentionResponse> OrganizationResponseAsync(long organizationId, IRetentionStore store, RetentionPolicies policies, CancellationToken cancellationToken)
    {
        var own = await store.GetRetentionPolicyAsync(RetentionScope.Organization, organizationId, cancellationToken);
        return new OrganizationRetentionResponse(organizationId, RetentionPolicyDto.From(own ?? policies.Server)!, own is null ? "server" : "organization",
            RetentionPolicyDto.From(own), RetentionPolicyDto.From(policies.Server)!);
    }
}
