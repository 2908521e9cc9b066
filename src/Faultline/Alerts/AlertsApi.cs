using System.Security.Claims;
using Faultline.Accounts;
using Faultline.Search;
using Faultline.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Faultline.Alerts;

/// <summary>Alert channels (per organization), rules (per project), history and deliveries under /api/v1, scoped to the caller's organizations.</summary>
public static class AlertsApi
{
    public static RouteGroupBuilder MapAlertsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization().AddEndpointFilter<AlertErrorFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/organizations/{organization}/alert-channels", ListChannelsAsync).WithName("ListAlertChannels").WithTags("Alerts")
            .WithSummary("Notification channels of an organization (secrets are never returned)");
        api.MapPost("/organizations/{organization}/alert-channels", CreateChannelAsync).WithName("CreateAlertChannel").WithTags("Alerts")
            .WithSummary("Add an email, Slack, webhook or Jira channel");
        api.MapGet("/alert-channels/{channelId:long}", GetChannelAsync).WithName("GetAlertChannel").WithTags("Alerts").WithSummary("One channel");
        api.MapPut("/alert-channels/{channelId:long}", UpdateChannelAsync).WithName("UpdateAlertChannel").WithTags("Alerts")
            .WithSummary("Replace a channel's settings; an omitted secret keeps the stored one");
        api.MapDelete("/alert-channels/{channelId:long}", DeleteChannelAsync).WithName("DeleteAlertChannel").WithTags("Alerts").WithSummary("Delete a channel");
        api.MapGet("/organizations/{organization}/alert-deliveries", ListDeliveriesAsync).WithName("ListAlertDeliveries").WithTags("Alerts")
            .WithSummary("Outbox rows of an organization, newest first (status: pending, delivered, failed)");

        api.MapGet("/projects/{projectId:long}/alert-rules", ListRulesAsync).WithName("ListAlertRules").WithTags("Alerts").WithSummary("Alert rules of a project");
        api.MapPost("/projects/{projectId:long}/alert-rules", CreateRuleAsync).WithName("CreateAlertRule").WithTags("Alerts")
            .WithSummary("Add a threshold, new-issue, regression or issue-frequency rule");
        api.MapGet("/alert-rules/{ruleId:long}", GetRuleAsync).WithName("GetAlertRule").WithTags("Alerts").WithSummary("One rule");
        api.MapPut("/alert-rules/{ruleId:long}", UpdateRuleAsync).WithName("UpdateAlertRule").WithTags("Alerts")
            .WithSummary("Replace a rule (also to disable or snooze it)");
        api.MapDelete("/alert-rules/{ruleId:long}", DeleteRuleAsync).WithName("DeleteAlertRule").WithTags("Alerts").WithSummary("Delete a rule");
        api.MapPost("/alert-rules/{ruleId:long}/test", TestRuleAsync).WithName("TestAlertRule").WithTags("Alerts")
            .WithSummary("Send a test notification through the rule's channels (ignores cooldown and snooze)");
        api.MapGet("/alert-rules/{ruleId:long}/history", HistoryAsync).WithName("AlertRuleHistory").WithTags("Alerts")
            .WithSummary("When the rule fired, why, and what became of each delivery");
        return api;
    }

    private static async Task<Results<Ok<IReadOnlyList<ChannelResponse>>, NotFound>> ListChannelsAsync(
        string organization, ClaimsPrincipal user, IAlertStore store, CancellationToken cancellationToken)
    {
        var org = await store.GetOrganizationForUserAsync(user.UserId(), organization, cancellationToken);
        if (org is null)
        {
            return TypedResults.NotFound();
        }
        var channels = await store.ListChannelsAsync(org.Id, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ChannelResponse>>(channels.Select(ChannelResponse.From).ToList());
    }

    private static async Task<Results<Created<ChannelResponse>, NotFound>> CreateChannelAsync(
        string organization, ChannelRequest body, ClaimsPrincipal user, IAlertStore store, AlertSettings settings, CancellationToken cancellationToken)
    {
        var org = await store.GetOrganizationForUserAsync(user.UserId(), organization, cancellationToken);
        if (org is null)
        {
            return TypedResults.NotFound();
        }
        var channel = await settings.CreateChannelAsync(user.UserId(), org.Id, body, cancellationToken);
        return TypedResults.Created($"/api/v1/alert-channels/{channel.Id}", ChannelResponse.From(channel));
    }

    private static async Task<Results<Ok<ChannelResponse>, NotFound>> GetChannelAsync(long channelId, ClaimsPrincipal user, IAlertStore store, CancellationToken cancellationToken)
    {
        var channel = await store.GetChannelForUserAsync(user.UserId(), channelId, cancellationToken);
        return channel is null ? TypedResults.NotFound() : TypedResults.Ok(ChannelResponse.From(channel));
    }

    private static async Task<Results<Ok<ChannelResponse>, NotFound>> UpdateChannelAsync(
        long channelId, ChannelRequest body, ClaimsPrincipal user, IAlertStore store, AlertSettings settings, CancellationToken cancellationToken)
    {
        var channel = await store.GetChannelForUserAsync(user.UserId(), channelId, cancellationToken);
        if (channel is null)
        {
            return TypedResults.NotFound();
        }
        var updated = await settings.UpdateChannelAsync(user.UserId(), channel, body, cancellationToken);
        return updated is null ? TypedResults.NotFound() : TypedResults.Ok(ChannelResponse.From(updated));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteChannelAsync(
        long channelId, ClaimsPrincipal user, IAlertStore store, AlertSettings settings, CancellationToken cancellationToken)
    {
        var channel = await store.GetChannelForUserAsync(user.UserId(), channelId, cancellationToken);
        if (channel is null)
        {
            return TypedResults.NotFound();
        }
        await settings.DeleteChannelAsync(user.UserId(), channel, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<IReadOnlyList<DeliveryResponse>>, NotFound>> ListDeliveriesAsync(
        string organization, ClaimsPrincipal user, IAlertStore store, CancellationToken cancellationToken, string? status = null, int? limit = null)
    {
        var org = await store.GetOrganizationForUserAsync(user.UserId(), organization, cancellationToken);
        if (org is null)
        {
            return TypedResults.NotFound();
        }
        if (status is not null && status is not (OutboxStatus.Pending or OutboxStatus.Delivered or OutboxStatus.Failed))
        {
            throw new AlertValidationException("status must be pending, delivered or failed.");
        }
        var rows = await store.ListOutboxAsync(org.Id, status, Math.Clamp(limit ?? 100, 1, 500), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<DeliveryResponse>>(rows.Select(DeliveryResponse.From).ToList());
    }

    private static async Task<Results<Ok<IReadOnlyList<RuleResponse>>, NotFound>> ListRulesAsync(
        long projectId, ClaimsPrincipal user, IAccountStore accounts, IAlertStore store, CancellationToken cancellationToken)
    {
        if (await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        var rules = await store.ListRulesAsync(projectId, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<RuleResponse>>(rules.Select(RuleResponse.From).ToList());
    }

    private static async Task<Results<Created<RuleResponse>, NotFound>> CreateRuleAsync(
        long projectId, RuleRequest body, ClaimsPrincipal user, IAccountStore accounts, AlertSettings settings, CancellationToken cancellationToken)
    {
        var project = await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken);
        if (project is null)
        {
            return TypedResults.NotFound();
        }
        var rule = await settings.CreateRuleAsync(user.UserId(), project, body, cancellationToken);
        return TypedResults.Created($"/api/v1/alert-rules/{rule.Id}", RuleResponse.From(rule));
    }

    private static async Task<Results<Ok<RuleResponse>, NotFound>> GetRuleAsync(long ruleId, ClaimsPrincipal user, IAlertStore store, CancellationToken cancellationToken)
    {
        var rule = await store.GetRuleForUserAsync(user.UserId(), ruleId, cancellationToken);
        return rule is null ? TypedResults.NotFound() : TypedResults.Ok(RuleResponse.From(rule));
    }

    private static async Task<Results<Ok<RuleResponse>, NotFound>> UpdateRuleAsync(
        long ruleId, RuleRequest body, ClaimsPrincipal user, IAlertStore store, AlertSettings settings, CancellationToken cancellationToken)
    {
        var rule = await store.GetRuleForUserAsync(user.UserId(), ruleId, cancellationToken);
        if (rule is null)
        {
            return TypedResults.NotFound();
        }
        var updated = await settings.UpdateRuleAsync(user.UserId(), rule, body, cancellationToken);
        return updated is null ? TypedResults.NotFound() : TypedResults.Ok(RuleResponse.From(updated));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteRuleAsync(
        long ruleId, ClaimsPrincipal user, IAlertStore store, AlertSettings settings, CancellationToken cancellationToken)
    {
        var rule = await store.GetRuleForUserAsync(user.UserId(), ruleId, cancellationToken);
        if (rule is null)
        {
            return TypedResults.NotFound();
        }
        await settings.DeleteRuleAsync(user.UserId(), rule, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<HistoryResponse>, NotFound>> TestRuleAsync(
        long ruleId, ClaimsPrincipal user, IAlertStore store, AlertSettings settings, CancellationToken cancellationToken)
    {
        var rule = await store.GetRuleForUserAsync(user.UserId(), ruleId, cancellationToken);
        if (rule is null)
        {
            return TypedResults.NotFound();
        }
        var history = await settings.TestRuleAsync(user.UserId(), rule, cancellationToken);
        return TypedResults.Accepted($"/api/v1/alert-rules/{ruleId}/history", HistoryResponse.From(history));
    }

    private static async Task<Results<Ok<IReadOnlyList<HistoryResponse>>, NotFound>> HistoryAsync(
        long ruleId, ClaimsPrincipal user, IAlertStore store, CancellationToken cancellationToken, int? limit = null)
    {
        if (await store.GetRuleForUserAsync(user.UserId(), ruleId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        var history = await store.ListHistoryAsync(ruleId, Math.Clamp(limit ?? 50, 1, 500), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<HistoryResponse>>(history.Select(HistoryResponse.From).ToList());
    }

    /// <summary>Client mistakes become 400 ProblemDetails that say what is wrong.</summary>
    internal sealed class AlertErrorFilter : IEndpointFilter
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
            catch (AlertValidationException e)
            {
                return TypedResults.Problem(e.Message, statusCode: 400, title: "Invalid request");
            }
            catch (AlertForbiddenException e)
            {
                return TypedResults.Problem(e.Message, statusCode: 403, title: "Forbidden");
            }
        }
    }
}
