namespace Faultline.Alerts.Pages;

/// <summary>A channel form's fields as the API's request: recipients one per line (or comma-separated).</summary>
internal static class ChannelForm
{
    private static readonly char[] Separators = ['\n', '\r', ',', ';'];

    public static ChannelRequest Request(Func<string, string> field, string? type)
    {
        var recipients = field("recipients").Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new ChannelRequest(field("name"), type, recipients, field("url"), field("secret"), field("siteUrl"), field("email"), field("projectKey"), field("issueType"));
    }
}
