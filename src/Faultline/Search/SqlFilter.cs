using System.Data.Common;
using System.Globalization;
using System.Text;
using Faultline.Events;

namespace Faultline.Search;

/// <summary>The bits of SQL that differ between engines when a search query becomes a WHERE clause.</summary>
public interface ISearchDialect
{
    /// <summary>A condition true when the event row has tag key = value.</summary>
    string TagEquals(string eventAlias, string keyParameter, string valueParameter);

    /// <summary>A condition true when the event's message or exception matches the full-text query.</summary>
    string TextMatches(string eventAlias, string textParameter);

    /// <summary>The engine's form of the full-text query for one term (prefix match on every word).</summary>
    string TextQuery(TextTerm term);

    /// <summary>The engine's form of a timestamp parameter.</summary>
    object Timestamp(DateTimeOffset value);
}

/// <summary>
/// Turns a parsed <see cref="SearchQuery"/> into SQL conditions with parameters. Values are always
/// parameters; only fixed column names and generated parameter names are written into the SQL text.
/// </summary>
public sealed class SqlFilter(ISearchDialect dialect)
{
    private readonly List<string> _conditions = [];
    private readonly List<KeyValuePair<string, object>> _parameters = [];

    public IReadOnlyList<KeyValuePair<string, object>> Parameters => _parameters;

    public string Where => _conditions.Count == 0 ? "TRUE" : string.Join(" AND ", _conditions);

    public void Add(string condition) => _conditions.Add(condition);

    public string Parameter(object value)
    {
        var name = "@p" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
        _parameters.Add(new(name, value));
        return name;
    }

    public void ApplyTo(DbCommand command)
    {
        foreach (var (name, value) in _parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
    }

    /// <summary>Adds the conditions on event rows (alias <paramref name="e"/>).</summary>
    public void AddEventConditions(SearchQuery query, string e)
    {
        foreach (var filter in query.Filters)
        {
            _conditions.Add(FieldCondition(filter, e, issueIdColumn: $"{e}.issue_id"));
        }
        foreach (var term in query.Text)
        {
            _conditions.Add(TextCondition(term, e));
        }
        if (query.Statuses.Count > 0)
        {
            var issueConditions = query.Statuses.Select(s => StatusCondition(s, "si"));
            _conditions.Add($"EXISTS (SELECT 1 FROM issues si WHERE si.id = {e}.issue_id AND {string.Join(" AND ", issueConditions)})");
        }
        if (query.Since is { } since)
        {
            _conditions.Add($"{e}.timestamp >= {Parameter(dialect.Timestamp(since))}");
        }
        if (query.Until is { } until)
        {
            _conditions.Add($"{e}.timestamp <= {Parameter(dialect.Timestamp(until))}");
        }
    }

    /// <summary>
    /// Adds the conditions on issue rows (alias <paramref name="i"/>). Filters that only events carry
    /// (environment, release, logger, tags, text) select issues that have at least one matching event
    /// (in the time range, when there is one).
    /// </summary>
    public void AddIssueConditions(SearchQuery query, string i, string projectParameter)
    {
        var eventConditions = new List<string>();
        foreach (var filter in query.Filters)
        {
            if (filter.Field is FilterField.Level or FilterField.Issue)
            {
                _conditions.Add(FieldCondition(filter, i, issueIdColumn: $"{i}.id"));
            }
            else
            {
                eventConditions.Add(FieldCondition(filter, "se", issueIdColumn: "se.issue_id"));
            }
        }
        foreach (var term in query.Text)
        {
            eventConditions.Add(TextCondition(term, "se"));
        }
        if (eventConditions.Count > 0)
        {
            // The matching event must fall in the time range too: "timeout" over 24 h means a matching event
            // in those 24 h, and the bound keeps the lookup to the range instead of every matching event.
            if (query.Since is { } eventsSince)
            {
                eventConditions.Add($"se.timestamp >= {Parameter(dialect.Timestamp(eventsSince))}");
            }
            if (query.Until is { } eventsUntil)
            {
                eventConditions.Add($"se.timestamp <= {Parameter(dialect.Timestamp(eventsUntil))}");
            }
            _conditions.Add($"{i}.id IN (SELECT se.issue_id FROM events se WHERE se.project_id = {projectParameter} AND {string.Join(" AND ", eventConditions)})");
        }
        foreach (var status in query.Statuses)
        {
            _conditions.Add(StatusCondition(status, i));
        }
        if (query.Since is { } since)
        {
            _conditions.Add($"{i}.last_seen >= {Parameter(dialect.Timestamp(since))}");
        }
        if (query.Until is { } until)
        {
            _conditions.Add($"{i}.first_seen <= {Parameter(dialect.Timestamp(until))}");
        }
    }

    private string FieldCondition(FieldFilter filter, string alias, string issueIdColumn)
    {
        string condition;
        switch (filter.Field)
        {
            case FilterField.Tag:
                condition = "(" + string.Join(" OR ", filter.Values.Select(v =>
                    dialect.TagEquals(alias, Parameter(filter.TagKey ?? string.Empty), Parameter(v)))) + ")";
                break;
            case FilterField.Level:
                condition = $"{alias}.level IN ({string.Join(", ", filter.Values.Select(v => Parameter(LevelNumber(v))))})";
                break;
            case FilterField.Issue:
                condition = $"{issueIdColumn} IN ({string.Join(", ", filter.Values.Select(v => Parameter(IssueNumber(v))))})";
                break;
            default:
                var name = filter.Field switch
                {
                    FilterField.Environment => "environment",
                    FilterField.Release => "release",
                    _ => "logger",
                };
                condition = $"{alias}.{name} IN ({string.Join(", ", filter.Values.Select(Parameter))})";
                // An event without the field is not "in" the list, so a negation must keep it.
                if (filter.Negated)
                {
                    return $"({alias}.{name} IS NULL OR NOT {condition})";
                }
                break;
        }
        return filter.Negated ? $"NOT {condition}" : condition;
    }

    private string TextCondition(TextTerm term, string alias)
    {
        if (Words(term.Text).Count == 0)
        {
            // Punctuation only: nothing to match on, so the term does not narrow the search.
            return "1 = 1";
        }
        var condition = dialect.TextMatches(alias, Parameter(dialect.TextQuery(term)));
        return term.Negated ? $"NOT {condition}" : condition;
    }

    private string StatusCondition(StatusFilter status, string alias)
    {
        var condition = status.Status switch
        {
            "resolved" => $"{alias}.status = {Parameter((int)Storage.IssueStatus.Resolved)}",
            "ignored" => $"{alias}.status = {Parameter((int)Storage.IssueStatus.Ignored)}",
            "reviewed" => $"{alias}.reviewed = {Parameter(true)}",
            "unreviewed" => $"{alias}.reviewed = {Parameter(false)}",
            "regressed" => $"{alias}.regressed = {Parameter(true)}",
            _ => $"{alias}.status = {Parameter((int)Storage.IssueStatus.Unresolved)}",
        };
        return status.Negated ? $"NOT ({condition})" : condition;
    }

    private static int LevelNumber(string level) =>
        EventLevels.TryParse(level, out var parsed) ? (int)parsed : (int)EventLevel.Error;

    private static long IssueNumber(string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1;

    /// <summary>Splits free text into lower-case word tokens, the unit both engines index.</summary>
    public static IReadOnlyList<string> Words(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                current.Append(char.ToLowerInvariant(c));
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }
        return words;
    }
}
