namespace Faultline.Alerts.Channels;

/// <summary>Delivers one outbox row over one kind of channel.</summary>
public interface IChannelSender
{
    /// <summary>The channel type this sender handles (email, slack, webhook, jira, report).</summary>
    string Type { get; }

    /// <summary>Sends the row; throws <see cref="DeliveryException"/> on failure. Returns a note for the record (e.g. the Jira key) or null.</summary>
    Task<string?> SendAsync(OutboxEntry entry, AlertChannel? channel, string? secret, CancellationToken cancellationToken);
}

/// <summary>A failed delivery. <see cref="Permanent"/> failures (a 400 from Jira, a bad address) are not retried.</summary>
public sealed class DeliveryException(string message, bool permanent, Exception? inner = null) : Exception(message, inner)
{
    public bool Permanent { get; } = permanent;
}

/// <summary>The non-secret settings of a channel, stored as JSON in alert_channels.config.</summary>
public sealed record ChannelConfig
{
    /// <summary>Email: the recipients.</summary>
    public IReadOnlyList<string>? Recipients { get; init; }

    /// <summary>Webhook: where to POST (the Slack URL is a secret and lives in the secret column).</summary>
    public string? Url { get; init; }

    /// <summary>Jira: https://your-site.atlassian.net.</summary>
    public string? SiteUrl { get; init; }

    /// <summary>Jira: the account the API token belongs to.</summary>
    public string? Email { get; init; }

    public string? ProjectKey { get; init; }

    public string? IssueType { get; init; }
}
