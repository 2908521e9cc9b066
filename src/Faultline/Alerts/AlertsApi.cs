using System.Security.Claims;
using System.Text.Json;
using Faultline.Accounts;
using Faultline.Alerts.Channels;
using Faultline.Events;
using Faultline.Search;
using Faultline.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Faultline.Alerts;

/// <summary>Alert channels (per organization), rules (per project), history and deliveries under /api/v1, scoped to the caller's organizations.</summary>
public static class AlertsApi
{
    private const int MaxNameLength = 200;
    private const int MaxRecipients = 50;
    private const int MaxChannelsPerRule = 20;
    private static readonly string[] ChannelTypes = ["email", "slack", "webhook", "jira"];

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
        string organization, ChannelRequest body, ClaimsPrincipal user, IAlertStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var org = await store.GetOrganizationForUserAsync(user.UserId(), organization, cancellationToken);
        if (org is null)
        {
            return TypedResults.NotFound();
        }
        var type = body.Type?.Trim().ToLowerInvariant();
        if (type is null || !ChannelTypes.Contains(type))
        {
            throw new AlertValidationException($"type must be one of {string.Join(", ", ChannelTypes)}.");
        }
        var (name, config, secret) = ValidateChannel(type, body, creating: true);
        var channel = await store.CreateChannelAsync(org.Id, name, type, config, secret, time.GetUtcNow(), cancellationToken);
        return TypedResults.Created($"/api/v1/alert-channels/{channel.Id}", ChannelResponse.From(channel));
    }

    private static async Task<Results<Ok<ChannelResponse>, NotFound>> GetChannelAsync(long channelId, ClaimsPrincipal user, IAlertStore store, CancellationToken cancellationToken)
    {
        var channel = await store.GetChannelForUserAsync(user.UserId(), channelId, cancellationToken);
        return channel is null ? TypedResults.NotFound() : TypedResults.Ok(ChannelResponse.From(channel));
    }

    private static async Task<Results<Ok<ChannelResponse>, NotFound>> UpdateChannelAsync(
        long channelId, ChannelRequest body, ClaimsPrincipal user, IAlertStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var channel = await store.GetChannelForUserAsync(user.UserId(), channelId, cancellationToken);
        if (channel is null)
        {
            return TypedResults.NotFound();
        }
        if (body.Type is not null && !string.Equals(body.Type.Trim(), channel.Type, StringComparison.OrdinalIgnoreCase))
        {
            throw new AlertValidationException("A channel's type cannot change: create a new channel.");
        }
        var (name, config, secret) = ValidateChannel(channel.Type, body, creating: false);
        var updated = await store.UpdateChannelAsync(channelId, name, config, secret, time.GetUtcNow(), cancellationToken);
        return updated is null ? TypedResults.NotFound() : TypedResults.Ok(ChannelResponse.From(updated));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteChannelAsync(long channelId, ClaimsPrincipal user, IAlertStore store, CancellationToken cancellationToken)
    {
        if (await store.GetChannelForUserAsync(user.UserId(), channelId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        await store.DeleteChannelAsync(channelId, cancellationToken);
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
        long projectId, RuleRequest body, ClaimsPrincipal user, IAccountStore accounts, IAlertStore store, AlertRuleCache cache,
        TimeProvider time, IOptions<AlertOptions> options, CancellationToken cancellationToken)
    {
        var project = await accounts.GetProjectForUserAsync(user.UserId(), projectId, cancellationToken);
        if (project is null)
        {
            return TypedResults.NotFound();
        }
        var draft = await ValidateRuleAsync(body, project.OrganizationId, store, time.GetUtcNow(), options.Value, cancellationToken);
        var rule = await store.CreateRuleAsync(projectId, draft, time.GetUtcNow(), cancellationToken);
        cache.Invalidate();
        return TypedResults.Created($"/api/v1/alert-rules/{rule.Id}", RuleResponse.From(rule));
    }

    private static async Task<Results<Ok<RuleResponse>, NotFound>> GetRuleAsync(long ruleId, ClaimsPrincipal user, IAlertStore store, CancellationToken cancellationToken)
    {
        var rule = await store.GetRuleForUserAsync(user.UserId(), ruleId, cancellationToken);
        return rule is null ? TypedResults.NotFound() : TypedResults.Ok(RuleResponse.From(rule));
    }

    private static async Task<Results<Ok<RuleResponse>, NotFound>> UpdateRuleAsync(
        long ruleId, RuleRequest body, ClaimsPrincipal user, IAlertStore store, AlertRuleCache cache, TimeProvider time,
        IOptions<AlertOptions> options, CancellationToken cancellationToken)
    {
        var rule = await store.GetRuleForUserAsync(user.UserId(), ruleId, cancellationToken);
        if (rule is null)
        {
            return TypedResults.NotFound();
        }
        var draft = await ValidateRuleAsync(body, rule.OrganizationId, store, time.GetUtcNow(), options.Value, cancellationToken);
        var updated = await store.UpdateRuleAsync(ruleId, draft, time.GetUtcNow(), cancellationToken);
        cache.Invalidate();
        return updated is null ? TypedResults.NotFound() : TypedResults.Ok(RuleResponse.From(updated));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteRuleAsync(long ruleId, ClaimsPrincipal user, IAlertStore store, AlertRuleCache cache, CancellationToken cancellationToken)
    {
        if (await store.GetRuleForUserAsync(user.UserId(), ruleId, cancellationToken) is null)
        {
            return TypedResults.NotFound();
        }
        await store.DeleteRuleAsync(ruleId, cancellationToken);
        cache.Invalidate();
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<HistoryResponse>, NotFound>> TestRuleAsync(
        long ruleId, ClaimsPrincipal user, IAlertStore store, AlertNotifier notifier, TimeProvider time, CancellationToken cancellationToken)
    {
        var rule = await store.GetRuleForUserAsync(user.UserId(), ruleId, cancellationToken);
        if (rule is null)
        {
            return TypedResults.NotFound();
        }
        if (rule.Draft.ChannelIds.Count == 0)
        {
            throw new AlertValidationException("The rule has no channels to test.");
        }
        var historyId = await notifier.FireAsync(rule, 0, null, 0, "Test notification", isTest: true, time.GetUtcNow(), cancellationToken);
        var history = await store.ListHistoryAsync(ruleId, 20, cancellationToken);
        return TypedResults.Accepted($"/api/v1/alert-rules/{ruleId}/history", HistoryResponse.From(history.First(h => h.Id == historyId)));
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

    private static (string Name, string Config, string? Secret) ValidateChannel(string type, ChannelRequest body, bool creating)
    {
        var name = Name(body.Name);
        string? secret = string.IsNullOrWhiteSpace(body.Secret) ? null : body.Secret.Trim();
        ChannelConfig config;
        switch (type)
        {
            case "email":
                var recipients = (body.Recipients ?? []).Select(r => r?.Trim() ?? "").ToList();
                if (recipients.Count is 0 or > MaxRecipients)
                {
                    throw new AlertValidationException($"recipients must list 1 to {MaxRecipients} email addresses.");
                }
                foreach (var recipient in recipients)
                {
                    if (!MimeKit.MailboxAddress.TryParse(recipient, out var address) || !address.Address.Contains('@', StringComparison.Ordinal))
                    {
                        throw new AlertValidationException($"recipients: '{Show(recipient)}' is not an email address.");
                    }
                }
                config = new ChannelConfig { Recipients = recipients };
                secret = null;
                break;
            case "slack":
                // The incoming-webhook URL is the credential: it goes to the secret column and is never shown.
                var slackUrl = body.Url ?? body.Secret;
                secret = slackUrl is null ? null : HttpUrl(slackUrl, "url");
                if (creating && secret is null)
                {
                    throw new AlertValidationException("url (the Slack incoming-webhook URL) is required.");
                }
                config = new ChannelConfig();
                break;
            case "webhook":
                config = new ChannelConfig { Url = HttpUrl(body.Url ?? throw new AlertValidationException("url is required."), "url") };
                if (creating && secret is null)
                {
                    throw new AlertValidationException("secret (the key receivers verify the HMAC-SHA256 signature with) is required.");
                }
                if (secret is { Length: < 16 })
                {
                    throw new AlertValidationException("secret must be at least 16 characters.");
                }
                break;
            default:
                config = new ChannelConfig
                {
                    SiteUrl = HttpUrl(body.SiteUrl ?? throw new AlertValidationException("siteUrl (https://your-site.atlassian.net) is required."), "siteUrl"),
                    Email = string.IsNullOrWhiteSpace(body.Email) ? throw new AlertValidationException("email (the Jira account of the API token) is required.") : body.Email.Trim(),
                    ProjectKey = string.IsNullOrWhiteSpace(body.ProjectKey) ? throw new AlertValidationException("projectKey is required.") : body.ProjectKey.Trim(),
                    IssueType = string.IsNullOrWhiteSpace(body.IssueType) ? "Bug" : body.IssueType.Trim(),
                };
                if (creating && secret is null)
                {
                    throw new AlertValidationException("secret (the Jira API token) is required.");
                }
                break;
        }
        return (name, JsonSerializer.Serialize(config, AlertNotifier.Json), secret);
    }

    private static async Task<AlertRuleDraft> ValidateRuleAsync(RuleRequest body, long organizationId, IAlertStore store, DateTimeOffset now, AlertOptions options, CancellationToken cancellationToken)
    {
        var name = Name(body.Name);
        AlertRuleType type;
        try
        {
            type = SqlStoreBase.ParseRuleType(body.Type?.Trim().ToLowerInvariant() ?? "");
        }
        catch (InvalidOperationException)
        {
            throw new AlertValidationException("type must be threshold, new_issue, regression or issue_frequency.");
        }
        int? threshold = null;
        int? window = null;
        if (type is AlertRuleType.Threshold or AlertRuleType.IssueFrequency)
        {
            threshold = body.Threshold is { } t && t >= 0 && t <= options.MaxThreshold
                ? t : throw new AlertValidationException($"threshold (fire on more than this many events) must be 0 to {options.MaxThreshold}.");
            window = body.WindowSeconds is { } w && w >= 1 && w <= 86_400
                ? w : throw new AlertValidationException("windowSeconds must be 1 to 86400.");
        }
        EventLevel? level = null;
        if (!string.IsNullOrWhiteSpace(body.Level))
        {
            level = EventLevels.TryParse(body.Level, out var parsed) ? parsed : throw new AlertValidationException("level must be debug, info, warning, error or fatal.");
        }
        var cooldown = body.CooldownSeconds ?? 600;
        if (cooldown is < 0 or > 30 * 86_400)
        {
            throw new AlertValidationException("cooldownSeconds must be 0 to 2592000 (30 days).");
        }
        var channelIds = (body.ChannelIds ?? []).Distinct().ToList();
        if (channelIds.Count > MaxChannelsPerRule)
        {
            throw new AlertValidationException($"A rule may use at most {MaxChannelsPerRule} channels.");
        }
        var known = (await store.ListChannelsAsync(organizationId, cancellationToken)).Select(c => c.Id).ToHashSet();
        if (channelIds.Where(id => !known.Contains(id)).Select(id => (long?)id).FirstOrDefault() is { } unknown)
        {
            throw new AlertValidationException($"channelIds: {unknown} is not a channel of this project's organization.");
        }
        var draft = new AlertRuleDraft(name, type, body.Enabled ?? true, threshold, window, level,
            Optional(body.Environment), Optional(body.Release), Optional(body.Query), cooldown, body.SnoozedUntil, channelIds);
        RuleMatcher.Create(draft, now); // a query the evaluator cannot run is a 400 now, not a silent rule later
        return draft;
    }

    private static string Name(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength
            ? throw new AlertValidationException($"name is required (at most {MaxNameLength} characters).")
            : name.Trim();

    private static string? Optional(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string HttpUrl(string value, string field) =>
        Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? uri.ToString()
            : throw new AlertValidationException($"{field} must be an absolute http or https URL.");

    private static string Show(string value) => value.Length > 60 ? value[..60] + "..." : value;

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
        }
    }
}
