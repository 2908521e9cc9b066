using System.Globalization;
using Faultline.Issues;
using Faultline.Search;
using Faultline.Storage;
using Microsoft.AspNetCore.WebUtilities;

namespace Faultline.Dashboard;

/// <summary>
/// The issues page's state as it travels in the URL (query bar, filters, sort, cursor), so every view
/// can be bookmarked and shared; builds the store request and the links to other views.
/// </summary>
public sealed record IssueListQuery(
    string? Query = null,
    string Status = "unresolved",
    string? Level = null,
    string? Environment = null,
    string? Release = null,
    string Period = "all",
    string Sort = "last_seen",
    string? Cursor = null)
{
    public static readonly IReadOnlyList<string> StatusOptions = ["unresolved", "resolved", "ignored", "regressed", "unreviewed", "all"];
    public static readonly IReadOnlyList<string> LevelOptions = ["", "fatal", "error", "warning", "info", "debug"];
    public static readonly IReadOnlyList<string> SortOptions = ["last_seen", "first_seen", "count"];

    /// <summary>Time ranges offered; an issue is in range when it was last seen inside it.</summary>
    public static readonly IReadOnlyList<(string Value, string Label, TimeSpan? Span)> PeriodOptions =
    [
        ("1h", "Last hour", TimeSpan.FromHours(1)),
        ("24h", "Last 24 hours", TimeSpan.FromHours(24)),
        ("7d", "Last 7 days", TimeSpan.FromDays(7)),
        ("14d", "Last 14 days", TimeSpan.FromDays(14)),
        ("30d", "Last 30 days", TimeSpan.FromDays(30)),
        ("90d", "Last 90 days", TimeSpan.FromDays(90)),
        ("all", "Any time", null),
    ];

    /// <summary>Reads the URL's values; unknown choices fall back to the defaults rather than failing the page.</summary>
    public static IssueListQuery From(string? query, string? status, string? level, string? environment, string? release, string? period, string? sort, string? cursor) => new(
        Blank(query),
        StatusOptions.Contains(status ?? "") ? status! : "unresolved",
        LevelOptions.Contains(level ?? "") ? Blank(level) : null,
        Blank(environment),
        Blank(release),
        PeriodOptions.Any(p => p.Value == period) ? period! : "all",
        SortOptions.Contains(sort ?? "") ? sort! : "last_seen",
        Blank(cursor));

    /// <summary>Whether anything narrows the list beyond the default view (unresolved, any time).</summary>
    public bool IsFiltered =>
        Query is not null || Status != "unresolved" || Level is not null || Environment is not null || Release is not null || Period != "all";

    /// <summary>The store request; throws <see cref="QuerySyntaxException"/> for a bad query bar.</summary>
    public IssueListRequest ToRequest(DateTimeOffset now, int limit)
    {
        var span = PeriodOptions.First(p => p.Value == Period).Span;
        var search = QueryRequests.Build(Query, Status == "all" ? null : Status, Level, Environment, Release, now - span, null, now);
        return new IssueListRequest(search, QueryRequests.Sort(Sort), limit, Cursor);
    }

    /// <summary>The URL of this view with a few values changed; any change but the cursor starts again at the first page.</summary>
    public string Url(long projectId, IssueListQuery? changed = null)
    {
        var q = changed ?? this;
        var values = new Dictionary<string, string?>
        {
            ["query"] = q.Query,
            ["status"] = q.Status == "unresolved" ? null : q.Status,
            ["level"] = q.Level,
            ["environment"] = q.Environment,
            ["release"] = q.Release,
            ["period"] = q.Period == "all" ? null : q.Period,
            ["sort"] = q.Sort == "last_seen" ? null : q.Sort,
            ["cursor"] = q.Cursor,
        };
        return QueryHelpers.AddQueryString($"/projects/{projectId.ToString(CultureInfo.InvariantCulture)}/issues",
            values.Where(v => v.Value is not null).Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)));
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
