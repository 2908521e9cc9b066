using System.Text.RegularExpressions;

namespace Faultline.Issues;

/// <summary>
/// Replaces the variable parts of a message (ids, addresses, numbers) with placeholders so that
/// "Timeout after 3000 ms for order 4f9c..." and "Timeout after 2500 ms for order 81aa..." group together.
/// </summary>
public static partial class MessageNormalizer
{
    /// <summary>
    /// Replaces UUIDs, hex strings (0x..., and long hex runs >= 8 chars), IPv4 addresses, emails, ISO timestamps
    /// and numbers with placeholders like &lt;uuid&gt;, &lt;hex&gt;, &lt;ip&gt;, &lt;email&gt;, &lt;date&gt;,
    /// &lt;int&gt;; collapses whitespace.
    /// </summary>
    public static string Normalize(string message)
    {
        if (string.IsNullOrEmpty(message))
        {
            return string.Empty;
        }

        return VariablePart().Replace(message, Placeholder).Trim();
    }

    private static string Placeholder(Match match)
    {
        var groups = match.Groups;
        if (groups["uuid"].Success) return "<uuid>";
        if (groups["date"].Success) return "<date>";
        if (groups["email"].Success) return "<email>";
        if (groups["ip"].Success) return "<ip>";
        if (groups["hex"].Success) return "<hex>";
        if (groups["int"].Success) return "<int>";
        return " ";
    }

    // One pass with alternatives in priority order: at a given position the first alternative that matches wins,
    // so a UUID or a date is never chopped into numbers, and an email's digits never become <int>.
    // Patterns avoid nested quantifiers so hostile input stays linear; a timeout would throw in the ingest path.
    // Long hex runs must mix digits and letters: pure digit runs are numbers, pure letter runs are words ("deadbeef"
    // is the price). Digits glued to a preceding letter or underscore belong to an identifier (Int32, utf8, order_42)
    // and are kept; digits followed by a unit (3000ms) are still numbers.
    // Single spaces are left alone rather than matched and replaced by themselves: ordinary prose then yields
    // few matches, which is most of the cost on long messages.
    [GeneratedRegex(
        """
        (?<uuid>\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b)
        |(?<date>\b\d{4}-\d{2}-\d{2}(?:[T\x20]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b)
        |(?<email>(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)+)
        |(?<ip>\b(?:\d{1,3}\.){3}\d{1,3}\b)
        |(?<hex>\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b)
        |(?<int>(?<![\p{L}\p{N}_])\d+)
        |(?<ws>\s{2,}|[^\S\x20])
        """,
        RegexOptions.IgnorePatternWhitespace | RegexOptions.ExplicitCapture | RegexOptions.CultureInvariant)]
    private static partial Regex VariablePart();
}
