using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Faultline.Accounts;

/// <summary>
/// Project settings (create project, keys, rate limits), organization members and the caller's own
/// account (password, API tokens) under /api/v1, authenticated like the query API.
/// </summary>
public static class AccountsApi
{
    public static IEndpointRouteBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().AddEndpointFilter<AccountErrorFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);

        var orgs = api.MapGroup("/organizations").WithTags("Organizations");
        orgs.MapGet("/", ListOrganizationsAsync).WithName("ListOrganizations").WithSummary("The caller's organizations and role in each");
        orgs.MapPost("/{organizationId:long}/projects", CreateProjectAsync).WithName("CreateProject")
            .WithSummary("Create a project with its first key (owners and admins)").Manages();
        orgs.MapGet("/{organizationId:long}/members", ListMembersAsync).WithName("ListMembers").WithSummary("Members of an organization and their roles")
            .ProducesProblem(StatusCodes.Status404NotFound);
        orgs.MapPost("/{organizationId:long}/members", AddMemberAsync).WithName("AddMember")
            .WithSummary("Add an existing user by email (owners and admins; only owners grant owner)").Manages();
        orgs.MapPut("/{organizationId:long}/members/{userId:long}", SetMemberRoleAsync).WithName("SetMemberRole")
            .WithSummary("Change a member's role; the last owner cannot be demoted").Manages();
        orgs.MapDelete("/{organizationId:long}/members/{userId:long}", RemoveMemberAsync).WithName("RemoveMember")
            .WithSummary("Remove a member (or leave); the last owner cannot be removed").Manages();

        var keys = api.MapGroup("/projects/{projectId:long}/keys").WithTags("Projects");
        keys.MapGet("/", ListKeysAsync).WithName("ListProjectKeys").WithSummary("A project's keys with their DSNs, revoked ones included")
            .ProducesProblem(StatusCodes.Status404NotFound);
        keys.MapPost("/", CreateKeyAsync).WithName("CreateProjectKey").WithSummary("Create a key (owners and admins)").Manages();
        keys.MapDelete("/{keyId:long}", RevokeKeyAsync).WithName("RevokeProjectKey")
            .WithSummary("Revoke a key: refused at once on this node, within 30 s on others").Manages();
        keys.MapPut("/{keyId:long}/rate-limit", SetRateLimitAsync).WithName("SetProjectKeyRateLimit")
            .WithSummary("Set a key's rate limit in events per second (null: the server default)").Manages();

        var account = api.MapGroup("/account").WithTags("Account");
        account.MapGet("/", GetAccountAsync).WithName("GetAccount").WithSummary("The caller's user and organizations");
        account.MapPut("/password", ChangePasswordAsync).WithName("ChangePassword").WithSummary("Change the password (needs the current one)");
        account.MapGet("/tokens", ListTokensAsync).WithName("ListApiTokens").WithSummary("The caller's active API tokens (never the token itself)");
        account.MapPost("/tokens", CreateTokenAsync).WithName("CreateApiToken").WithSummary("Create an API token; the answer is the only time it is shown");
        account.MapDelete("/tokens/{tokenId:long}", RevokeTokenAsync).WithName("RevokeApiToken").WithSummary("Revoke one of the caller's API tokens")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>Endpoints that need a manager's role: they can also answer 403, 404 and 409.</summary>
    private static RouteHandlerBuilder Manages(this RouteHandlerBuilder endpoint) => endpoint
        .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

    private static async Task<Ok<IReadOnlyList<OrganizationResponse>>> ListOrganizationsAsync(ClaimsPrincipal user, OrganizationService organizations, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<OrganizationResponse>>(
            (await organizations.ListOrganizationsAsync(user.UserId(), cancellationToken)).Select(OrganizationResponse.From).ToList());

    private static async Task<Created<CreatedProjectResponse>> CreateProjectAsync(
        long organizationId, CreateProjectRequest body, ClaimsPrincipal user, OrganizationService organizations, AccountService accounts, CancellationToken cancellationToken)
    {
        var created = await organizations.CreateProjectAsync(user.UserId(), organizationId, body.Name, cancellationToken);
        var p = created.Project;
        return TypedResults.Created($"/api/v1/projects/{p.Id}",
            new CreatedProjectResponse(p.Id, p.OrganizationId, created.Organization.Slug, p.Name, p.Slug, p.CreatedAt, KeyResponse.From(created.Key, accounts)));
    }

    private static async Task<Ok<IReadOnlyList<MemberResponse>>> ListMembersAsync(long organizationId, ClaimsPrincipal user, OrganizationService organizations, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<MemberResponse>>(
            (await organizations.ListMembersAsync(user.UserId(), organizationId, cancellationToken)).Select(MemberResponse.From).ToList());

    private static async Task<Created<MemberResponse>> AddMemberAsync(long organizationId, AddMemberRequest body, ClaimsPrincipal user, OrganizationService organizations, CancellationToken cancellationToken)
    {
        var member = await organizations.AddMemberAsync(user.UserId(), organizationId, body.Email, body.Role, cancellationToken);
        return TypedResults.Created($"/api/v1/organizations/{organizationId}/members/{member.UserId}", MemberResponse.From(member));
    }

    private static async Task<Ok<MemberResponse>> SetMemberRoleAsync(long organizationId, long userId, RoleRequest body, ClaimsPrincipal user, OrganizationService organizations, CancellationToken cancellationToken) =>
        TypedResults.Ok(MemberResponse.From(await organizations.SetMemberRoleAsync(user.UserId(), organizationId, userId, body.Role, cancellationToken)));

    private static async Task<NoContent> RemoveMemberAsync(long organizationId, long userId, ClaimsPrincipal user, OrganizationService organizations, CancellationToken cancellationToken)
    {
        await organizations.RemoveMemberAsync(user.UserId(), organizationId, userId, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<IReadOnlyList<KeyResponse>>> ListKeysAsync(long projectId, ClaimsPrincipal user, OrganizationService organizations, AccountService accounts, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<KeyResponse>>(
            (await organizations.ListKeysAsync(user.UserId(), projectId, cancellationToken)).Select(k => KeyResponse.From(k, accounts)).ToList());

    private static async Task<Created<KeyResponse>> CreateKeyAsync(long projectId, ClaimsPrincipal user, OrganizationService organizations, AccountService accounts, CancellationToken cancellationToken)
    {
        var key = await organizations.CreateKeyAsync(user.UserId(), projectId, cancellationToken);
        return TypedResults.Created($"/api/v1/projects/{projectId}/keys/{key.Id}", KeyResponse.From(key, accounts));
    }

    private static async Task<Ok<KeyResponse>> RevokeKeyAsync(long projectId, long keyId, ClaimsPrincipal user, OrganizationService organizations, AccountService accounts, CancellationToken cancellationToken) =>
        TypedResults.Ok(KeyResponse.From(await organizations.RevokeKeyAsync(user.UserId(), projectId, keyId, cancellationToken), accounts));

    private static async Task<Ok<KeyResponse>> SetRateLimitAsync(
        long projectId, long keyId, RateLimitRequest body, ClaimsPrincipal user, OrganizationService organizations, AccountService accounts, CancellationToken cancellationToken) =>
        TypedResults.Ok(KeyResponse.From(await organizations.SetKeyRateLimitAsync(user.UserId(), projectId, keyId, body.EventsPerSecond, cancellationToken), accounts));

    private static async Task<Ok<AccountResponse>> GetAccountAsync(ClaimsPrincipal user, AccountSettings settings, OrganizationService organizations, CancellationToken cancellationToken)
    {
        var me = await settings.GetUserAsync(user.UserId(), cancellationToken);
        var memberships = await organizations.ListOrganizationsAsync(me.Id, cancellationToken);
        return TypedResults.Ok(new AccountResponse(me.Id, me.Email, me.IsAdmin, me.CreatedAt, memberships.Select(OrganizationResponse.From).ToList()));
    }

    private static async Task<NoContent> ChangePasswordAsync(ChangePasswordRequest body, ClaimsPrincipal user, AccountSettings settings, CancellationToken cancellationToken)
    {
        await settings.ChangePasswordAsync(user.UserId(), body.CurrentPassword, body.NewPassword, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<IReadOnlyList<ApiTokenResponse>>> ListTokensAsync(ClaimsPrincipal user, AccountSettings settings, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<ApiTokenResponse>>((await settings.ListTokensAsync(user.UserId(), cancellationToken)).Select(ApiTokenResponse.From).ToList());

    private static async Task<Created<CreatedTokenResponse>> CreateTokenAsync(CreateTokenRequest body, ClaimsPrincipal user, AccountSettings settings, CancellationToken cancellationToken)
    {
        var created = await settings.CreateTokenAsync(user.UserId(), body.Name, cancellationToken);
        var r = created.Record;
        return TypedResults.Created($"/api/v1/account/tokens/{r.Id}", new CreatedTokenResponse(r.Id, r.Name, r.CreatedAt, created.Token));
    }

    private static async Task<NoContent> RevokeTokenAsync(long tokenId, ClaimsPrincipal user, AccountSettings settings, CancellationToken cancellationToken)
    {
        await settings.RevokeTokenAsync(user.UserId(), tokenId, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Refused account operations become ProblemDetails: 400, 403, 404 or 409 with the reason.</summary>
    private sealed class AccountErrorFilter : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            try
            {
                return await next(context);
            }
            catch (AccountException e)
            {
                var (status, title) = e.Error switch
                {
                    AccountError.Forbidden => (StatusCodes.Status403Forbidden, "Forbidden"),
                    AccountError.NotFound => (StatusCodes.Status404NotFound, "Not found"),
                    AccountError.Conflict => (StatusCodes.Status409Conflict, "Conflict"),
                    _ => (StatusCodes.Status400BadRequest, "Invalid request"),
                };
                return TypedResults.Problem(e.Message, statusCode: status, title: title);
            }
        }
    }
}
