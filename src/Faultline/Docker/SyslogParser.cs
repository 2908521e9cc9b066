using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Faultline.Docker;

/// <summary>
/// Parses one syslog message: RFC 5424 (Docker's rfc5424 and rfc5424micro), RFC 3164 and the
/// BSD-like form Docker sends by default (<c>&lt;PRI&gt;TIMESTAMP TAG[PID]: MSG</c>, with or without host).
/// Returns null with a reason for anything that is not syslog.
/// </summary>
public sealed class SyslogParser(Regex tagPattern, TimeProvider time)
{
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    public ContainerLogLine? Parse(ReadOnlySpan<byte> frame, out string? reason)
    {
        reason = null;
        string text;
        try
        {
            text = StrictUtf8.GetString(frame);
        }
        catch (DecoderFallbackException)
        {
            // Syslog allows other encodings in MSG; keep the line, replacing what is not UTF-8.
            text = Encoding.UTF8.GetString(frame);
        }
        text = text.TrimEnd('\n', '\r', '\0');
        if (text.Length < 3 || text[0] != '<')
        {
            reason = "malformed";
            return null;
        }
        var close = text.IndexOf('>', 1);
        if (close is < 2 or > 4 || !int.TryParse(text.AsSpan(1, close - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var priority) || priority > 191)
        {
            reason = "bad_priority";
            return null;
        }
        var rest = text.AsSpan(close + 1);
        var severity = priority % 8;
        if (rest.Length >= 2 && rest[0] == '1' && rest[1] == ' ')
        {
            return Parse5424(rest[2..], severity, out reason);
        }
        return Parse3164(rest, severity);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private ContainerLogLine? Parse5424(ReadOnlySpan<char> rest, int severity, out string? reason)
    {
        reason = null;
        var timestamp = NextToken(ref rest);
        var host = NextToken(ref rest);
        var appName = NextToken(ref rest);
        NextToken(ref rest); // PROCID: Docker puts its own pid there
        NextToken(ref rest); // MSGID: Docker repeats the tag
        string? projectKey = null;
        if (rest.Length > 0 && rest[0] == '[')
        {
            if (!TryReadStructuredData(ref rest, out projectKey))
            {
                reason = "bad_structured_data";
                return null;
            }
        }
        else
        {
            NextToken(ref rest); // "-": no structured data
        }
        if (rest.Length > 0 && rest[0] == ' ')
        {
            rest = rest[1..];
        }
        var message = rest.ToString().TrimStart('\uFEFF');
        DateTimeOffset? at = timestamp is null ? null
            : DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null;
        return Line(message, severity, at, host, appName, projectKey);
    }

    private ContainerLogLine Parse3164(ReadOnlySpan<char> rest, int severity)
    {
        rest = rest.TrimStart(' ');
        var at = ReadBsdTimestamp(ref rest);
        if (at is null)
        {
            // Docker's default format and srslog's use RFC 3339 here.
            var token = rest;
            var end = token.IndexOf(' ');
            if (end > 0 && DateTimeOffset.TryParse(token[..end], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) && token[..end].Contains('T'))
            {
                at = parsed;
                rest = rest[(end + 1)..];
            }
        }
        rest = rest.TrimStart(' ');
        string? host = null;
        var first = rest.IndexOf(' ');
        if (first > 0)
        {
            var candidate = rest[..first];
            // A tag ends with ':' or carries "[pid]"; anything else in this place is the host name.
            if (!candidate.EndsWith(":") && !candidate.Contains('['))
            {
                host = candidate.ToString();
                rest = rest[(first + 1)..];
            }
        }
        string? tag = null;
        var colon = rest.IndexOf(": ");
        var space = rest.IndexOf(' ');
        if (colon > 0 && (space < 0 || colon < space))
        {
            var tagPart = rest[..colon];
            var bracket = tagPart.IndexOf('[');
            tag = (bracket > 0 ? tagPart[..bracket] : tagPart).ToString();
            rest = rest[(colon + 2)..];
        }
        else if (rest.EndsWith(":") && space < 0)
        {
            tag = rest[..^1].ToString();
            rest = [];
        }
        return Line(rest.ToString(), severity, at, host, tag, null);
    }

    private ContainerLogLine Line(string message, int severity, DateTimeOffset? at, string? host, string? tag, string? projectKey)
    {
        var (name, id, image) = tag is null ? default : ReadTag(tag);
        return new ContainerLogLine
        {
            Message = message,
            Severity = severity,
            Timestamp = at,
            Host = host,
            Tag = tag,
            ContainerName = name,
            ContainerId = id,
            Image = image,
            ProjectKey = projectKey,
        };
    }

    /// <summary>Container name, id and image from a tag; cached, since a stream repeats its tag on every line.</summary>
    private (string? Name, string? Id, string? Image) ReadTag(string tag)
    {
        if (_tags.TryGetValue(tag, out var known))
        {
            return known;
        }
        (string?, string?, string?) parsed;
        Match match;
        try
        {
            match = tagPattern.Match(tag);
        }
        catch (RegexMatchTimeoutException)
        {
            match = Match.Empty;
        }
        if (match.Success)
        {
            parsed = (Group(match, "name"), Group(match, "id"), Group(match, "image"));
        }
        else if (tag.Length is 12 or 64 && tag.All(char.IsAsciiHexDigitLower))
        {
            parsed = (null, tag, null); // Docker's default tag is {{.ID}}, the short container id
        }
        else
        {
            parsed = (tag, null, null);
        }
        if (_tags.Count > 10_000)
        {
            _tags.Clear();
        }
        _tags[tag] = parsed;
        return parsed;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string?, string?, string?)> _tags = new(StringComparer.Ordinal);

    private static string? Group(Match match, string name) =>
        match.Groups[name] is { Success: true, Length: > 0 } group ? group.Value : null;

    /// <summary>"Mmm dd hh:mm:ss" (dd space-padded); the year is the current one, or the last if that would be in the future.</summary>
    private DateTimeOffset? ReadBsdTimestamp(ref ReadOnlySpan<char> rest)
    {
        if (rest.Length < 15 || rest[3] != ' ' || rest[6] != ' ' || rest[9] != ':' || rest[12] != ':')
        {
            return null;
        }
        var month = Array.IndexOf(Months, rest[..3].ToString()) + 1;
        if (month == 0
            || !int.TryParse(rest.Slice(4, 2).Trim(' '), NumberStyles.None, CultureInfo.InvariantCulture, out var day)
            || !int.TryParse(rest.Slice(7, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hour)
            || !int.TryParse(rest.Slice(10, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var minute)
            || !int.TryParse(rest.Slice(13, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var second))
        {
            return null;
        }
        var now = time.GetUtcNow();
        try
        {
            var at = new DateTimeOffset(now.Year, month, day, hour, minute, second, TimeSpan.Zero);
            if (at > now.AddDays(2))
            {
                at = at.AddYears(-1);
            }
            rest = rest[15..];
            return at;
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static string? NextToken(ref ReadOnlySpan<char> rest)
    {
        var end = rest.IndexOf(' ');
        var token = end < 0 ? rest : rest[..end];
        rest = end < 0 ? [] : rest[(end + 1)..];
        return token is "-" or "" ? null : token.ToString();
    }

    /// <summary>Reads [id k="v" ...]... up to the message; a param named key in an element whose id starts with "faultline" is the project key.</summary>
    private static bool TryReadStructuredData(ref ReadOnlySpan<char> rest, out string? projectKey)
    {
        projectKey = null;
        while (rest.Length > 0 && rest[0] == '[')
        {
            var i = 1;
            var idEnd = i;
            while (idEnd < rest.Length && rest[idEnd] is not (' ' or ']'))
            {
                idEnd++;
            }
            if (idEnd >= rest.Length)
            {
                return false;
            }
            var id = rest[i..idEnd];
            i = idEnd;
            while (i < rest.Length && rest[i] == ' ')
            {
                i++;
                var eq = rest[i..].IndexOf('=');
                if (eq <= 0 || i + eq + 1 >= rest.Length || rest[i + eq + 1] != '"')
                {
                    return false;
                }
                var name = rest.Slice(i, eq);
                i += eq + 2;
                var value = new StringBuilder();
                while (i < rest.Length && rest[i] != '"')
                {
                    if (rest[i] == '\\' && i + 1 < rest.Length && rest[i + 1] is '"' or '\\' or ']')
                    {
                        i++;
                    }
                    value.Append(rest[i]);
                    i++;
                }
                if (i >= rest.Length)
                {
                    return false;
                }
                i++; // closing quote
                if (id.StartsWith("faultline", StringComparison.OrdinalIgnoreCase) && name.SequenceEqual("key"))
                {
                    projectKey = value.ToString();
                }
            }
            if (i >= rest.Length || rest[i] != ']')
            {
                return false;
            }
            rest = rest[(i + 1)..];
        }
        return true;
    }
}
