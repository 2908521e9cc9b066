using System.Text.Json;
using System.Text.Json.Nodes;

namespace Faultline.Alerts.Channels;

/// <summary>Slack incoming webhook: a Block Kit message that says what happened, not just "Alert".</summary>
public sealed class SlackSender(IHttpClientFactory clients) : IChannelSender
{
    public string Type => "slack";

    public async Task<string?> SendAsync(OutboxEntry entry, AlertChannel? channel, string? secret, CancellationToken cancellationToken)
    {
        var notification = JsonSerializer.Deserialize<Notification>(entry.Payload, AlertNotifier.Json)!;
        var message = Message(notification).ToJsonString();
        await HttpDelivery.PostJsonAsync(clients.CreateClient(HttpDelivery.ClientName), new Uri(secret!), message, null, "Slack", cancellationToken);
        return null;
    }

    /// <summary>The Block Kit payload; <c>text</c> is the fallback shown in notifications.</summary>
    public static JsonObject Message(Notification n)
    {
        var fields = new JsonArray
        {
            Field("Project", n.Project),
            Field("Level", n.Level),
            Field("Count", n.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Field("Rule", n.RuleName),
        };
        if (n.Environment is not null)
        {
            fields.Add(Field("Environment", n.Environment));
        }
        if (n.Release is not null)
        {
            fields.Add(Field("Release", n.Release));
        }
        var blocks = new JsonArray
        {
            new JsonObject { ["type"] = "header", ["text"] = PlainText(Cut(n.Title, 150)) },
            new JsonObject { ["type"] = "section", ["text"] = Markdown($"*{Escape(n.Reason)}*"), ["fields"] = fields },
        };
        if (n.TopFrame is not null)
        {
            blocks.Add(new JsonObject { ["type"] = "section", ["text"] = Markdown($"Top in-app frame: `{Escape(n.TopFrame)}`") });
        }
        blocks.Add(new JsonObject
        {
            ["type"] = "actions",
            ["elements"] = new JsonArray
            {
                new JsonObject { ["type"] = "button", ["text"] = PlainText("Open in Faultline"), ["url"] = n.Link },
            },
        });
        return new JsonObject
        {
            ["text"] = $"{(n.IsTest ? "[test] " : "")}{n.Reason}: {n.Title} ({n.Project}, {n.Level}, {n.Count}) {n.Link}",
            ["blocks"] = blocks,
        };
    }

    private static JsonObject Field(string name, string value) => Markdown($"*{name}*\n{Escape(value)}");

    private static JsonObject PlainText(string text) => new() { ["type"] = "plain_text", ["text"] = text, ["emoji"] = false };

    private static JsonObject Markdown(string text) => new() { ["type"] = "mrkdwn", ["text"] = text };

    // Slack's mrkdwn treats these three as control characters.
    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..(length - 3)] + "...";
}
