using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Faultline.Alerts.Channels;

/// <summary>A rendered mail: what the email channel and reports hand to SMTP.</summary>
public sealed record MailMessage(IReadOnlyList<string> To, string Subject, string Html, string Text);

/// <summary>SMTP through MailKit (STARTTLS or TLS, optional auth): Amazon SES, Postmark, a company relay.</summary>
public sealed class SmtpMailer(IOptions<AlertOptions> options)
{
    public async Task SendAsync(MailMessage mail, CancellationToken cancellationToken)
    {
        var smtp = options.Value.Smtp;
        if (string.IsNullOrWhiteSpace(smtp.Host))
        {
            throw new DeliveryException("Email is not configured: set Faultline:Alerts:Smtp:Host.", permanent: true);
        }
        var message = new MimeMessage();
        try
        {
            message.From.Add(MailboxAddress.Parse(smtp.From));
            foreach (var to in mail.To)
            {
                message.To.Add(MailboxAddress.Parse(to));
            }
        }
        catch (ParseException e)
        {
            throw new DeliveryException($"An address is not valid: {e.Message}", permanent: true, e);
        }
        message.Subject = mail.Subject;
        message.Body = new BodyBuilder { HtmlBody = mail.Html, TextBody = mail.Text }.ToMessageBody();

        using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(smtp.Host, smtp.Port, Enum.Parse<SecureSocketOptions>(smtp.Security), cancellationToken);
            if (!string.IsNullOrEmpty(smtp.Username))
            {
                await client.AuthenticateAsync(new NetworkCredential(smtp.Username, smtp.Password), cancellationToken);
            }
            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (AuthenticationException e)
        {
            throw new DeliveryException($"The SMTP server refused the credentials: {e.Message}", permanent: true, e);
        }
        catch (SmtpCommandException e)
        {
            // 5xx answers (unknown recipient, sender not verified) stay wrong; 4xx are "try later".
            var permanent = (int)e.StatusCode >= 500;
            throw new DeliveryException($"The SMTP server answered {(int)e.StatusCode}: {e.Message}", permanent, e);
        }
        catch (Exception e) when (e is SocketException or IOException or SmtpProtocolException or ServiceNotConnectedException or TimeoutException or SslHandshakeException)
        {
            throw new DeliveryException($"The SMTP server {smtp.Host}:{smtp.Port} could not be reached: {e.Message}", permanent: false, e);
        }
    }
}

/// <summary>The email channel: the alert as HTML and plain text to the channel's recipients.</summary>
public sealed class EmailSender(SmtpMailer mailer) : IChannelSender
{
    public string Type => "email";

    public async Task<string?> SendAsync(OutboxEntry entry, AlertChannel? channel, string? secret, CancellationToken cancellationToken)
    {
        var config = JsonSerializer.Deserialize<ChannelConfig>(channel!.Config, AlertNotifier.Json)!;
        var notification = JsonSerializer.Deserialize<Notification>(entry.Payload, AlertNotifier.Json)!;
        await mailer.SendAsync(Render(notification, config.Recipients ?? []), cancellationToken);
        return null;
    }

    public static MailMessage Render(Notification n, IReadOnlyList<string> to)
    {
        var subject = $"{(n.IsTest ? "[test] " : "")}[{n.Project}] {n.Level}: {n.Title}";
        var facts = new List<(string Name, string Value)>
        {
            ("Why", n.Reason), ("Project", n.Project), ("Level", n.Level),
            ("Count", n.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("Rule", n.RuleName),
        };
        if (n.Environment is not null)
        {
            facts.Add(("Environment", n.Environment));
        }
        if (n.Release is not null)
        {
            facts.Add(("Release", n.Release));
        }
        if (n.TopFrame is not null)
        {
            facts.Add(("Top in-app frame", n.TopFrame));
        }
        var text = new StringBuilder().AppendLine(n.Title).AppendLine();
        foreach (var (name, value) in facts)
        {
            text.Append(name).Append(": ").AppendLine(value);
        }
        text.AppendLine().Append("Open in Faultline: ").AppendLine(n.Link);

        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">")
            .Append("<h2>").Append(WebUtility.HtmlEncode(n.Title)).Append("</h2><table>");
        foreach (var (name, value) in facts)
        {
            var shown = name == "Top in-app frame" ? $"<code>{WebUtility.HtmlEncode(value)}</code>" : WebUtility.HtmlEncode(value);
            html.Append("<tr><th align=\"left\">").Append(WebUtility.HtmlEncode(name)).Append("</th><td>").Append(shown).Append("</td></tr>");
        }
        html.Append("</table><p><a href=\"").Append(WebUtility.HtmlEncode(n.Link)).Append("\">Open in Faultline</a></p></body></html>");
        return new MailMessage(to, subject, html.ToString(), text.ToString());
    }
}

/// <summary>Scheduled reports: the mail was rendered when the period closed; this only sends it.</summary>
public sealed class ReportMailSender(SmtpMailer mailer) : IChannelSender
{
    public const string ChannelType = "report";

    public string Type => ChannelType;

    public async Task<string?> SendAsync(OutboxEntry entry, AlertChannel? channel, string? secret, CancellationToken cancellationToken)
    {
        var mail = JsonSerializer.Deserialize<MailMessage>(entry.Payload, AlertNotifier.Json)!;
        await mailer.SendAsync(mail, cancellationToken);
        return null;
    }
}
