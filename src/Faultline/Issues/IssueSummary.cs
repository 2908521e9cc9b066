using Faultline.Events;

namespace Faultline.Issues;

/// <summary>How an issue is labelled in lists: a title and the place in the code it comes from.</summary>
public static class IssueSummary
{
    // Long enough for a useful exception message, short enough for one line in a list.
    private const int MaxValueLength = 200;
    private const string Unlabeled = "<unlabeled event>";

    /// <summary>
    /// Issue title: "Type: value" of the primary exception (value truncated ~ 200 chars, first line only),
    /// else the message (first line, truncated), else "&lt;unlabeled event&gt;".
    /// </summary>
    public static string Title(FaultlineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.PrimaryException is { } exception)
        {
            var type = FirstLine(exception.Type);
            var value = FirstLine(exception.Value);
            if (type is not null && value is not null)
            {
                return $"{Truncate(type)}: {Truncate(value)}";
            }

            if ((type ?? value) is { } single)
            {
                return Truncate(single);
            }
        }

        // The formatted message reads better than its template; the template is the fallback.
        var message = FirstLine(e.Message) ?? FirstLine(e.MessageTemplate);
        return message is null ? Unlabeled : Truncate(message);
    }

    /// <summary>
    /// Culprit: event.Culprit if set, else the top (crash-site-most) in-app frame of the primary exception
    /// as "module in function" or "filename in function", else null.
    /// </summary>
    public static string? Culprit(FaultlineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!string.IsNullOrWhiteSpace(e.Culprit))
        {
            return e.Culprit.Trim();
        }

        var frames = e.PrimaryException?.Frames ?? [];
        for (var i = frames.Count - 1; i >= 0; i--)
        {
            var frame = frames[i];
            if (frame.InApp != true)
            {
                continue;
            }

            var (module, function) = Fingerprinter.FrameNames(frame);
            var location = module ?? NonBlank(frame.Filename) ?? NonBlank(frame.AbsPath);
            if (location is not null && function is not null)
            {
                return $"{location} in {function}";
            }

            if ((location ?? function) is { } single)
            {
                return single;
            }
        }

        return null;
    }

    private static string? FirstLine(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var span = text.AsSpan().TrimStart();
        var end = span.IndexOfAny('\r', '\n');
        return (end < 0 ? span : span[..end]).TrimEnd().ToString();
    }

    private static string Truncate(string text)
    {
        if (text.Length <= MaxValueLength)
        {
            return text;
        }

        // Cutting between the halves of a surrogate pair would leave invalid UTF-16 in the title.
        var cut = char.IsHighSurrogate(text[MaxValueLength - 1]) ? MaxValueLength - 1 : MaxValueLength;
        return string.Concat(text.AsSpan(0, cut), "…");
    }

    private static string? NonBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
