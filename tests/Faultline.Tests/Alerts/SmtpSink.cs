using MimeKit;

namespace Faultline.Tests.Alerts;

/// <summary>
/// The real SMTP sink ./test.sh starts (scripts/smtp.sh, Debian's aiosmtpd): its address and the maildir
/// it writes every received mail into. Missing: the tests fail and say how to start it.
/// </summary>
public static class SmtpSink
{
    public const string AddressVariable = "FAULTLINE_TEST_SMTP";
    public const string MaildirVariable = "FAULTLINE_TEST_MAILDIR";

    public static (string Host, int Port) Address()
    {
        var value = Environment.GetEnvironmentVariable(AddressVariable);
        if (string.IsNullOrEmpty(value) || !value.Contains(':', StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"The email tests need a real SMTP sink: {AddressVariable}=host:port and {MaildirVariable}=DIR. Run ./test.sh, or scripts/smtp.sh start DIR (mail lands in DIR/maildir).");
        }
        var colon = value.LastIndexOf(':');
        return (value[..colon], int.Parse(value[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public static string Maildir() =>
        Environment.GetEnvironmentVariable(MaildirVariable) is { Length: > 0 } dir
            ? dir
            : throw new InvalidOperationException($"The email tests need {MaildirVariable} (the SMTP sink's maildir). Run ./test.sh.");

    /// <summary>Settings that point Faultline's SMTP client at the sink (plain SMTP: the sink has no TLS).</summary>
    public static Dictionary<string, string?> Settings()
    {
        var (host, port) = Address();
        return new Dictionary<string, string?>
        {
            ["Faultline:Alerts:Smtp:Host"] = host,
            ["Faultline:Alerts:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Faultline:Alerts:Smtp:Security"] = "None",
            ["Faultline:Alerts:Smtp:From"] = "Faultline <alerts@faultline.test>",
        };
    }

    /// <summary>Mails delivered to this recipient so far (the maildir is shared by every test, recipients are unique per test).</summary>
    public static IReadOnlyList<MimeMessage> MailTo(string recipient)
    {
        var folder = Path.Combine(Maildir(), "new");
        if (!Directory.Exists(folder))
        {
            return [];
        }
        var found = new List<MimeMessage>();
        foreach (var file in Directory.GetFiles(folder))
        {
            MimeMessage message;
            try
            {
                message = MimeMessage.Load(file);
            }
            catch (IOException)
            {
                continue; // still being written
            }
            if (message.To.Mailboxes.Any(m => string.Equals(m.Address, recipient, StringComparison.OrdinalIgnoreCase)))
            {
                found.Add(message);
            }
        }
        return found;
    }
}
