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

/// <summary>Retention policy and archive endpoints under /api/v1, by API token, scoped to the caller's organizations.</summary>
public static class RetentionApi
{
    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().WithTags("Retention")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);
        api.MapGet("/projects/{projectId:long}/retention", GetProjectAsync).WithName("GetProjectRetention")
            .WithSummary("The project's retention policy, where it comes from, and the organization and server defaults");
        api.MapPut("/projects/{projectId:long}/retention", PutProjectAsync).WithName("SetProjectRetention")
            .WithSummary("Set the project's own policy (fields left out keep their current value)");
        api.MapDelete("/projects/{projectId:long}/retention", DeleteProjectAsync).WithName("ClearProjectRetention")
            .WithSummary("Remove the project's own policy: it inherits the organization's or the server's");
        api.MapGet("/organizations/{organizationId:long}/retention", GetOrganizationAsync).WithName("GetOrganizationRetention")
            .WithSummary("The organization's default policy for its projects");
        api.MapPut("/organizations/{organizationId:long}/retention", PutOrganizationAsync).WithName("SetOrganizationRetention")
            .WithSummary("Set the organization's default policy (fields left out keep their current value)");
        api.MapDelete("/organizations/{organizationId:long}/retention", DeleteOrganizationAsync).WithName("ClearOrganizationRetention")
            .WithSummary("Remove the organization's default: its projects inherit the server's");
        api.MapGet("/projects/{projectId:long}/archive", ListArchiveAsync).WithName("ListArchive")
            .WithSummary("The project's archive objects (one per project, day and part) with their state, counts and checksums");
        api.MapPost("/projects/{projectId:long}/archive/restore", RestoreAsync).WithName("RestoreArchive")
            .WithSummary("Bring archived days back into searchable storage, marked restored (swept again later)");
        return app;
    }

    private static async Task<Results<Ok<ProjectRetentionResponse>, NotFound>> GetProjectAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, RetentionPolicies policies, CancellationToken cancellationToken)
    {
        var project = await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken);
        return project is null ? TypedResults.NotFound() : TypedResults.Ok(await ProjectResponseAsync(project, policies, cancellationToken));
    }

    private static async Task<Results<Ok<ProjectRetentionResponse>, NotFound, ProblemHttpResult>> PutProjectAsync(
        long projectId, RetentionPolicyRequest body, ClaimsPrincipal user, IAccountStore accounts, IRetentionStore store, RetentionPolicies policies,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken);
        if (project is null)
        {
            return TypedResults.NotFound();
        }
        var current = (await policies.GetAsync(project, cancellationToken)).Policy;
        if (Merge(current, body, out var error) is not { } policy)
        {
            return BadPolicy(error);
        }
        await store.SetRetentionPolicyAsync(RetentionScope.Project, projectId, policy, time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(await ProjectResponseAsync(project, policies, cancellationToken));
    }

    private static async Task<Results<Ok<ProjectRetentionResponse>, NotFound>> DeleteProjectAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, IRetentionStore store, RetentionPolicies policies, TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken);
        if (project is null)
        {
            return TypedResults.NotFound();
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
        long organizationId, RetentionPolicyRequest body, ClaimsPrincipal user, IRetentionStore store, RetentionPolicies policies, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await store.IsOrganizationMemberAsync(user.UserId(), organizationId, cancellationToken))
        {
            return TypedResults.NotFound();
        }
        var current = await store.GetRetentionPolicyAsync(RetentionScope.Organization, organizationId, cancellationToken) ?? policies.Server;
        if (Merge(current, body, out var error) is not { } policy)
        {
            return BadPolicy(error);
        }
        await store.SetRetentionPolicyAsync(RetentionScope.Organization, organizationId, policy, time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(await OrganizationResponseAsync(organizationId, store, policies, cancellationToken));
    }

    private static async Task<Results<Ok<OrganizationRetentionResponse>, NotFound>> DeleteOrganizationAsync(
        long organizationId, ClaimsPrincipal user, IRetentionStore store, RetentionPolicies policies, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await store.IsOrganizationMemberAsync(user.UserId(), organizationId, cancellationToken))
        {
            return TypedResults.NotFound();
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
        long projectId, RestoreRequest body, ClaimsPrincipal user, IAccountStore accounts, ArchiveRestore restore, CancellationToken cancellationToken)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
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
