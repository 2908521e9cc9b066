using System.ComponentModel.DataAnnotations;

namespace Faultline.Alerts;

/// <summary>Faultline:Alerts: rule evaluation, the outbox and SMTP (docs/configuration.md).</summary>
public sealed class AlertOptions
{
    public const string Section = "Faultline:Alerts";

    /// <summary>Committed batches waiting for evaluation; beyond that batches are dropped and counted so ingest never waits for alerts.</summary>
    [Range(16, 1_000_000)]
    public int EvaluatorQueueCapacity { get; set; } = 10_000;

    /// <summary>How often rules changed on another node are picked up; changes made through this node apply at once.</summary>
    [Range(1, 3600)]
    public int RuleRefreshSeconds { get; set; } = 30;

    /// <summary>The largest threshold a rule may use: the window keeps threshold + 1 receive times in memory.</summary>
    [Range(1, 10_000_000)]
    public int MaxThreshold { get; set; } = 100_000;

    public DeliveryOptions Delivery { get; set; } = new();

    public SmtpOptions Smtp { get; set; } = new();
}

public sealed class DeliveryOptions
{
    /// <summary>Attempts within one dispatch (Polly retry, exponential from FirstRetryDelay): rides out a blip in seconds.</summary>
    [Range(1, 10)]
    public int AttemptsPerDispatch { get; set; } = 3;

    /// <summary>Delay before the second in-dispatch attempt; doubled for each further one.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Dispatches of one outbox row before it is marked failed; longer outages then need a person.</summary>
    [Range(1, 50)]
    public int MaxDispatches { get; set; } = 6;

    /// <summary>Wait before the second dispatch of a row; doubled each time (30 s, 1 min, 2 min... about 16 min in all by default).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan DispatchBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the outbox is polled for due rows (new rows from this node are sent at once).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Per HTTP request (Slack, webhook, Jira): a hung receiver must not hold the outbox.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan HttpTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed class SmtpOptions
{
    /// <summary>The relay (e.g. email-smtp.eu-west-1.amazonaws.com for SES); empty disables email delivery (rows fail with a clear error).</summary>
    public string? Host { get; set; }

    /// <summary>587 for STARTTLS (SES, Postmark), 465 for TLS on connect, 25 inside a network.</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    /// <summary>StartTls (required), SslOnConnect, Auto (STARTTLS when offered) or None (a local relay or test sink only).</summary>
    [RegularExpression("^(StartTls|SslOnConnect|Auto|None)$")]
    public string Security { get; set; } = "StartTls";

    public string? Username { get; set; }

    /// <summary>Never logged or returned; pass it by environment variable or a secrets store.</summary>
    public string? Password { get; set; }

    /// <summary>The sender, e.g. "Faultline &lt;alerts@example.com&gt;" (SES needs a verified identity).</summary>
    public string From { get; set; } = "Faultline <faultline@localhost>";

    /// <summary>Per SMTP conversation.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}
