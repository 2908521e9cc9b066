using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Faultline.Search;

/// <summary>
/// Parses the search bar language (modelled on Sentry's): space-separated free text, <c>key:value</c>
/// filters, <c>is:</c> statuses and <c>since:</c>/<c>until:</c>/<c>age:</c> time bounds.
/// </summary>
public static partial class QueryParser
{
    public const int MaxQueryLength = 2000;
    public const int MaxTerms = 50;
    public const int MaxKeyLength = 200;

    private static readonly string[] Levels = ["fatal", "error", "warning", "info", "debug"];
    private static readonly string[] Statuses = ["unresolved", "resolved", "ignored", "reviewed", "unreviewed", "regressed"];

    private static readonly Dictionary<string, FilterField> Fields = new()
    {
        ["level"] = FilterField.Level, ["environment"] = FilterField.Environment, ["env"] = FilterField.Environment,
        ["release"] = FilterField.Release, ["logger"] = FilterField.Logger, ["issue"] = FilterField.Issue,
    };

    // "K" accepts "Z", "+02:00" or nothing; AssumeUniversal makes "nothing" mean UTC.
    private static readonly string[] IsoFormats =
        ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    public static SearchQuery Parse(string? query, DateTimeOffset now)
    {
        if (query is null)
            return SearchQuery.Empty;
        if (query.Length > MaxQueryLength)
            throw Error(MaxQueryLength, "Query too long", $"at most {MaxQueryLength} characters are allowed");
        return new Parser(query, now).Run();
    }

    public static bool TryParse(string? query, DateTimeOffset now, out SearchQuery result, out QuerySyntaxException? error)
    {
        try
        {
            result = Parse(query, now);
            error = null;
            return true;
        }
        catch (QuerySyntaxException e)
        {
            result = SearchQuery.Empty;
            error = e;
            return false;
        }
    }

    [GeneratedRegex("^([-+]?)([0-9]{1,9})([mhdw])$", RegexOptions.CultureInvariant)]
    private static partial Regex RelativeAge();

    private static QuerySyntaxException Error(int position, string what, string? detail = null) =>
        new($"{what} at position {position}{(detail is null ? "" : ": " + detail)}", position);

    // Echoes user input in messages without control characters or unbounded length.
    private static string Show(string value)
    {
        var shown = value.Length > 40 ? value[..40] : value;
        if (shown.Length > 0 && char.IsHighSurrogate(shown[^1]))
            shown = shown[..^1];
        var sb = new StringBuilder("'");
        foreach (var c in shown)
            sb.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.Append(value.Length > shown.Length ? "...'" : "'").ToString();
    }

    private static bool IsKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or ':';

    private sealed class Parser(string text, DateTimeOffset now)
    {
        private readonly List<FieldFilter> _filters = [];
        private readonly List<TextTerm> _text = [];
        private readonly List<StatusFilter> _statuses = [];
        private (DateTimeOffset Value, int Position)? _since;
        private (DateTimeOffset Value, int Position)? _until;
        private int _pos;

        public SearchQuery Run()
        {
            for (var terms = 1; ; terms++)
            {
                while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
                    _pos++;
                if (_pos >= text.Length)
                    break;
                if (terms > MaxTerms)
                    throw Error(_pos, "Too many terms", $"at most {MaxTerms} are allowed");
                ParseTerm();
            }

            if (_since is { } since && _until is { } until && since.Value > until.Value)
            {
                throw Error(Math.Max(since.Position, until.Position), "Time range is empty",
                    $"since {since.Value:O} is after until {until.Value:O}");
            }

            var result = new SearchQuery(_filters, _text, _statuses, _since?.Value, _until?.Value);
            return result.IsEmpty ? SearchQuery.Empty : result;
        }

        private void ParseTerm()
        {
            var start = _pos;
            // A lone '-' or '!' is an ordinary word, not a negation of nothing.
            var negated = text[_pos] is '-' or '!' && _pos + 1 < text.Length && !char.IsWhiteSpace(text[_pos + 1]);
            if (negated)
                _pos++;

            if (text[_pos] == '"')
            {
                var phrase = ReadQuoted();
                if (phrase.Length == 0)
                    throw Error(_pos - 2, "Empty quoted phrase");
                ExpectTermEnd();
                _text.Add(new TextTerm(phrase, negated));
                return;
            }

            var keyStart = _pos;
            var (key, bracketed) = ReadKey();
            if (key is not null)
            {
                var values = ReadValues(key);
                Apply(bracketed ? null : key.ToLowerInvariant(), key, values, negated, start);
                return;
            }

            while (_pos < text.Length && !char.IsWhiteSpace(text[_pos]))
                _pos++;
            var word = text[keyStart.._pos];
            if (word.Contains(':', StringComparison.Ordinal))
            {
                throw Error(keyStart, $"Invalid key in {Show(word)}",
                    "keys use letters, digits, '_', '.' and '-'; put text containing ':' in quotes");
            }

            _text.Add(new TextTerm(word, negated));
        }

        // Bare keys stop at the first ':' so values may contain colons (url:http://x); a tag key that
        // itself contains ':' (or is a reserved name like level) is written tags[key]:value.
        private (string? Key, bool Bracketed) ReadKey()
        {
            if (text.AsSpan(_pos).StartsWith("tags[", StringComparison.Ordinal))
            {
                var keyStart = _pos + 5;
                var close = text.IndexOf(']', keyStart);
                if (close < 0)
                    throw Error(_pos, "Unterminated tags[", "expected ']'");
                var tagKey = text[keyStart..close];
                if (tagKey.Length is 0 or > MaxKeyLength || !tagKey.All(IsKeyChar))
                {
                    throw Error(keyStart, $"Invalid tag key {Show(tagKey)}",
                        $"expected 1 to {MaxKeyLength} letters, digits, '_', '.', ':' or '-'");
                }

                if (close + 1 >= text.Length || text[close + 1] != ':')
                    throw Error(close + 1, "Expected ':' after tags[...]");
                _pos = close + 2;
                return (tagKey, true);
            }

            var end = _pos;
            while (end < text.Length && text[end] != ':' && IsKeyChar(text[end]))
                end++;
            if (end == _pos || end >= text.Length || text[end] != ':')
                return (null, false);
            if (end - _pos > MaxKeyLength)
                throw Error(_pos, "Key too long", $"at most {MaxKeyLength} characters are allowed");
            var key = text[_pos..end];
            _pos = end + 1;
            return (key, false);
        }

        private List<(string Value, int Position)> ReadValues(string key)
        {
            var values = new List<(string, int)>();
            while (true)
            {
                var start = _pos;
                if (_pos < text.Length && text[_pos] == '"')
                    values.Add((ReadQuoted(), start));
                else
                {
                    while (_pos < text.Length && !char.IsWhiteSpace(text[_pos]) && text[_pos] != ',')
                        _pos++;
                    values.Add((text[start.._pos], start));
                }

                if (values[^1].Item1.Length == 0)
                    throw Error(start, $"Empty value for {Show(key)}");
                if (_pos >= text.Length || text[_pos] != ',')
                    break;
                _pos++;
            }

            ExpectTermEnd();
            return values;
        }

        // Only \" and \\ are escapes; other backslashes stay literal so Windows paths need no doubling.
        private string ReadQuoted()
        {
            var open = _pos++;
            var sb = new StringBuilder();
            for (; _pos < text.Length; _pos++)
            {
                var c = text[_pos];
                if (c == '"')
                {
                    _pos++;
                    return sb.ToString();
                }

                if (c == '\\' && _pos + 1 < text.Length && text[_pos + 1] is '"' or '\\')
                    c = text[++_pos];
                sb.Append(c);
            }

            throw Error(open, "Unterminated quote", "add a closing '\"'");
        }

        private void ExpectTermEnd()
        {
            if (_pos < text.Length && !char.IsWhiteSpace(text[_pos]))
                throw Error(_pos, $"Unexpected {Show(text[_pos].ToString())}", "terms are separated by spaces");
        }

        private void Apply(string? name, string key, List<(string Value, int Position)> values, bool negated, int start)
        {
            if (name is "since" or "until" or "age")
            {
                ApplyTime(name, key, values, negated, start);
                return;
            }

            if (name == "is")
            {
                var (status, position) = Single(key, values);
                var lower = status.ToLowerInvariant();
                if (!Statuses.Contains(lower))
                    throw Error(position, $"Unknown status {Show(status)}", "expected one of " + string.Join(", ", Statuses));
                _statuses.Add(new StatusFilter(lower, negated));
                return;
            }

            var field = name is not null && Fields.TryGetValue(name, out var known) ? known : FilterField.Tag;
            var normalised = values.Select(v => field switch
            {
                FilterField.Level => Level(v.Value, v.Position),
                FilterField.Issue => IssueId(v.Value, v.Position),
                _ => v.Value,
            });
            _filters.Add(new FieldFilter(field, field == FilterField.Tag ? key : null,
                normalised.Distinct(StringComparer.Ordinal).ToArray(), negated));
        }

        private void ApplyTime(string name, string key, List<(string Value, int Position)> values, bool negated, int start)
        {
            if (negated)
                throw Error(start, $"{Show(key)} cannot be negated", "use since: or until: for the other side");
            var (value, position) = Single(key, values);
            var relative = RelativeAge().Match(value);
            var sign = relative.Groups[1].Value;
            DateTimeOffset instant;
            if (name == "age")
            {
                // Sentry's age:-24h is "newer than 24h", age:+7d "older than 7 days"; no sign is ambiguous.
                if (!relative.Success || sign.Length == 0)
                {
                    throw Error(position, $"Invalid age {Show(value)}",
                        "expected -24h (newer than) or +7d (older than); units m, h, d, w");
                }

                name = sign == "-" ? "since" : "until";
                instant = Ago(relative, position);
            }
            // since:24h and since:-24h both mean "24 hours ago"; '+' would read as the future, so it is refused.
            else if (relative.Success && sign != "+")
                instant = Ago(relative, position);
            else if (!DateTimeOffset.TryParseExact(value, IsoFormats, CultureInfo.InvariantCulture,
                         DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant))
            {
                throw Error(position, $"Invalid date {Show(value)}",
                    "expected an ISO 8601 date (2024-05-01, 2024-05-01T12:00:00Z) or a relative age (-24h, 30m, 7d, 2w)");
            }

            // Repeated bounds AND together, so the narrowest window wins.
            if (name == "since" && (_since is null || instant > _since.Value.Value))
                _since = (instant, start);
            else if (name == "until" && (_until is null || instant < _until.Value.Value))
                _until = (instant, start);
        }

        private DateTimeOffset Ago(Match relative, int position)
        {
            var amount = long.Parse(relative.Groups[2].Value, CultureInfo.InvariantCulture);
            try
            {
                var span = relative.Groups[3].Value switch
                {
                    "m" => TimeSpan.FromMinutes(amount),
                    "h" => TimeSpan.FromHours(amount),
                    "d" => TimeSpan.FromDays(amount),
                    _ => TimeSpan.FromDays(amount * 7),
                };
                return now.ToUniversalTime() - span;
            }
            catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
            {
                throw Error(position, $"Relative age {Show(relative.Value)} is out of range");
            }
        }

        private static (string Value, int Position) Single(string key, List<(string Value, int Position)> values) =>
            values.Count == 1
                ? values[0]
                : throw Error(values[1].Position - 1, $"{Show(key)} takes a single value", "use separate terms instead of a comma list");

        private static string Level(string value, int position)
        {
            var lower = value.ToLowerInvariant();
            lower = lower == "warn" ? "warning" : lower;
            return Levels.Contains(lower)
                ? lower
                : throw Error(position, $"Unknown level {Show(value)}", "expected one of " + string.Join(", ", Levels));
        }

        private static string IssueId(string value, int position) =>
            value.All(char.IsAsciiDigit) && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? id.ToString(CultureInfo.InvariantCulture)
                : throw Error(position, $"Invalid issue id {Show(value)}", "expected a number");
    }
}
