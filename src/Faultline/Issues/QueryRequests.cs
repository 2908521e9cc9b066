using Faultline.Search;
using Faultline.Storage;

namespace Faultline.Issues;

/// <summary>Turns query-string filters and the search bar into one <see cref="SearchQuery"/>; bad input becomes a 400 message.</summary>
internal static class QueryRequests
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static SearchQuery Build(string? query, string? status, string? level, string? environment, string? release, DateTimeOffset? since, DateTimeOffset? until, DateTimeOffset now)
    {
        // The separate parameters are the same filters as search-bar terms; quoting keeps their values literal.
        var terms = new List<string>();
        if (!string.IsNullOrWhiteSpace(status))
        {
            terms.Add("is:" + status.Trim());
        }
        if (!string.IsNullOrWhiteSpace(level))
        {
            terms.Add("level:" + level.Trim());
        }
        if (!string.IsNullOrWhiteSpace(environment))
        {
            terms.Add("environment:" + Quote(environment));
        }
        if (!string.IsNullOrWhiteSpace(release))
        {
            terms.Add("release:" + Quote(release));
        }
        var extra = terms.Count == 0 ? SearchQuery.Empty : QueryParser.Parse(string.Join(' ', terms), now);
        var parsed = QueryParser.Parse(query, now);
        return new SearchQuery(
            [.. parsed.Filters, .. extra.Filters],
            parsed.Text,
            [.. parsed.Statuses, .. extra.Statuses],
            Max(parsed.Since, since),
            Min(parsed.Until, until));
    }

    public static int Limit(int? limit) =>
        limit is null ? DefaultLimit : limit < 1 || limit > MaxLimit
            ? throw new BadQueryException($"limit must be between 1 and {MaxLimit}.")
            : limit.Value;

    public static IssueSort Sort(string? sort) => sort?.Trim().ToLowerInvariant() switch
    {
        null or "" or "last_seen" or "lastseen" => IssueSort.LastSeen,
        "first_seen" or "firstseen" => IssueSort.FirstSeen,
        "count" or "freq" => IssueSort.Count,
        _ => throw new BadQueryException($"sort must be last_seen, first_seen or count, not '{sort}'."),
    };

    private static string Quote(string value) => "\"" + value.Trim().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;
}

public sealed class BadQueryException(string message) : Exception(message);
