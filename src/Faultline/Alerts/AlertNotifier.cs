using System.Globalization;
using System.Text.Json;
using Faultline.Events;
using Faultline.Issues;
using Faultline.Storage;
using Microsoft.Extensions.Options;

namespace Faultline.Alerts;

/// <summary>Turns a firing rule into a history entry and one outbox row per channel, then wakes the dispatcher.</summary>
public sealed class AlertNotifier(IAlertStore store, OutboxDispatcher dispatcher, AlertMetrics metrics, IOptions<FaultlineOptions> faultline)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <returns>The history id, or null when the cooldown suppressed the firing.</returns>
    public async Task<long?> FireAsync(AlertRule rule, long cooldownIssueId, StoredEvent? trigger, long count, string reason, bool isTest, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var project = await store.GetProjectAsync(rule.ProjectId, cancellationToken);
        if (project is null)
        {
            return null;
        }
        var e = trigger?.Event.Event;
        var issueId = trigger?.IssueId;
        var notification = new Notification(
            isTest, rule.Id, rule.Draft.Name, SqlStoreBase.RuleTypeName(rule.Draft.Type), reason, project.Id, project.Name, project.OrganizationSlug,
            issueId,
            trigger?.Event.Title ?? $"Test notification from rule \"{rule.Draft.Name}\"",
            (e?.Level ?? EventLevel.Info).ToWire(),
            count,
            e is null ? null : TopInAppFrame(e),
            e?.Environment,
            e?.Release,
            Link(project.Id, issueId),
            now);
        var payload = JsonSerializer.Serialize(notification, Json);
        var messages = new List<OutboxMessage>();
        foreach (var channelId in rule.Draft.ChannelIds)
        {
            var channel = await store.GetChannelWithSecretAsync(channelId, cancellationToken);
            // A channel deleted or moved since the rule was saved is skipped, never borrowed from another organization.
            if (channel is { } found && found.Channel.OrganizationId == rule.OrganizationId)
            {
                messages.Add(new OutboxMessage(channelId, found.Channel.Type, payload));
            }
        }
        var cooldown = TimeSpan.FromSeconds(rule.Draft.CooldownSeconds);
        var historyId = await store.TryFireAsync(
            new AlertFiring(rule.Id, rule.ProjectId, rule.OrganizationId, cooldownIssueId, reason, isTest, now, now - cooldown, messages), cancellationToken);
        if (historyId is not null)
        {
            metrics.Fired(notification.RuleType, isTest);
            dispatcher.Wake();
        }
        return historyId;
    }

    private string Link(long projectId, long? issueId)
    {
        var root = faultline.Value.PublicUrl.TrimEnd('/');
        return issueId is { } id
            ? string.Create(CultureInfo.InvariantCulture, $"{root}/projects/{projectId}/issues/{id}")
            : string.Create(CultureInfo.InvariantCulture, $"{root}/projects/{projectId}/issues");
    }

    /// <summary>The crash-site-most in-app frame of the primary exception, as "module in function (file:line)".</summary>
    public static string? TopInAppFrame(FaultlineEvent e)
    {
        var frames = e.PrimaryException?.Frames ?? [];
        for (var i = frames.Count - 1; i >= 0; i--)
        {
            var frame = frames[i];
            if (frame.InApp != true)
            {
                continue;
            }
            var (module, function) = Fingerprinter.FrameNames(frame);
            var location = module ?? frame.Filename ?? frame.AbsPath;
            var text = location is not null && function is not null ? $"{location} in {function}" : location ?? function;
            if (text is null)
            {
                continue;
            }
            if (frame.Lineno is { } line)
            {
                var file = frame.Filename ?? frame.AbsPath;
                text += file is null
                    ? string.Create(CultureInfo.InvariantCulture, $" line {line}")
                    : string.Create(CultureInfo.InvariantCulture, $" ({file}:{line})");
            }
            return text;
        }
        return null;
    }
}
