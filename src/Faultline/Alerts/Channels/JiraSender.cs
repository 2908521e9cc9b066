using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Faultline.Alerts.Channels;

/// <summary>
/// Jira Cloud or Server: creates an issue through REST API v2 (plain-text description, accepted by both).
/// One Jira issue per Faultline issue and channel: later alerts for the same issue find the stored link
/// and create nothing.
/// </summary>
public sealed class JiraSender(IHttpClientFactory clients, IAlertStore store, TimeProvider time) : IChannelSender
{
    public string Type => "jira";

    public async Task<string?> SendAsync(OutboxEntry entry, AlertChannel? channel, string? secret, CancellationToken cancellationToken)
    {
        var config = JsonSerializer.Deserialize<ChannelConfig>(channel!.Config, AlertNotifier.Json)!;
        var notification = JsonSerializer.Deserialize<Notification>(entry.Payload, AlertNotifier.Json)!;
        if (notification.IssueId is { } issueId && await store.GetJiraLinkAsync(channel.Id, issueId, cancellationToken) is { } existing)
        {
            return $"already linked to {existing.Key}";
        }
        var site = config.SiteUrl!.TrimEnd('/');
        var body = new JsonObject
        {
            ["fields"] = new JsonObject
            {
                ["project"] = new JsonObject { ["key"] = config.ProjectKey },
                ["issuetype"] = new JsonObject { ["name"] = config.IssueType ?? "Bug" },
                ["summary"] = Cut($"{(notification.IsTest ? "[test] " : "")}{notification.Title}", 250),
                ["description"] = Description(notification),
                ["labels"] = new JsonArray("faultline"),
            },
        }.ToJsonString();
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{config.Email}:{secret}"));
        string answer;
        try
        {
            answer = await HttpDelivery.PostJsonAsync(clients.CreateClient(HttpDelivery.ClientName), new Uri($"{site}/rest/api/2/issue"), body, headers =>
            {
                headers.Authorization = new AuthenticationHeaderValue("Basic", credentials);
                headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            }, "Jira", cancellationToken);
        }
        catch (DeliveryException e)
        {
            throw JiraError(e);
        }
        var key = JsonNode.Parse(answer)?["key"]?.GetValue<string>() ?? throw new DeliveryException("Jira answered without an issue key.", permanent: true);
        if (notification.IssueId is { } id && !notification.IsTest)
        {
            await store.SaveJiraLinkAsync(new JiraLink(channel.Id, id, key, $"{site}/browse/{key}"), time.GetUtcNow(), cancellationToken);
        }
        return $"created {key}";
    }

    /// <summary>Jira explains a 400 in errorMessages and errors; the record keeps that explanation.</summary>
    private static DeliveryException JiraError(DeliveryException e)
    {
        var start = e.Message.IndexOf('{', StringComparison.Ordinal);
        if (start < 0)
        {
            return e;
        }
        try
        {
            var json = JsonNode.Parse(e.Message[start..]);
            var parts = new List<string>();
            parts.AddRange(json?["errorMessages"]?.AsArray().Select(m => m?.GetValue<string>() ?? "") ?? []);
            parts.AddRange(json?["errors"]?.AsObject().Select(p => $"{p.Key}: {p.Value}") ?? []);
            return parts.Count == 0 ? e : new DeliveryException($"{e.Message[..start].TrimEnd(' ', ':')}: {string.Join("; ", parts)}", e.Permanent);
        }
        catch (JsonException)
        {
            return e;
        }
    }

    private static string Description(Notification n)
    {
        var text = new StringBuilder()
            .AppendLine(n.Reason)
            .AppendLine()
            .AppendLine($"Project: {n.Project}")
            .AppendLine($"Level: {n.Level}")
            .AppendLine($"Count: {n.Count}");
        if (n.Environment is not null)
        {
            text.AppendLine($"Environment: {n.Environment}");
        }
        if (n.Release is not null)
        {
            text.AppendLine($"Release: {n.Release}");
        }
        if (n.TopFrame is not null)
        {
            text.AppendLine($"Top in-app frame: {n.TopFrame}");
        }
        return text.AppendLine().AppendLine($"Faultline: {n.Link}").ToString();
    }

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..(length - 3)] + "...";
}
