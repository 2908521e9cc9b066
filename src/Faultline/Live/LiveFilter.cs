using Faultline.Events;
using Faultline.Search;
using Faultline.Storage;

namespace Faultline.Live;

/// <summary>
/// The search language evaluated in memory against one committed event, for live subscribers.
/// Issue states (is:...) are not known at that moment, so they are refused at subscribe time.
/// </summary>
public sealed class LiveFilter
{
    private readonly SearchQuery _query;

    private LiveFilter(SearchQuery query) => _query = query;

    public static LiveFilter Parse(string? query, string? level, DateTimeOffset now)
    {
        var text = string.IsNullOrWhiteSpace(level) ? query : $"{query} level:{level.Trim()}";
        var parsed = QueryParser.Parse(text, now);
        if (parsed.Statuses.Count > 0)
        {
            throw new QuerySyntaxException("is: filters are not available on the live stream (issue states are not part of an event).", 0);
        }
        return new LiveFilter(parsed with { Since = null, Until = null });
    }

    public bool Matches(StoredEvent stored)
    {
        var e = stored.Event.Event;
        foreach (var filter in _query.Filters)
        {
            var value = filter.Field switch
            {
                FilterField.Level => e.Level.ToWire(),
                FilterField.Environment => e.Environment,
                FilterField.Release => e.Release,
                FilterField.Logger => e.Logger,
                FilterField.Issue => stored.IssueId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => e.Tags.GetValueOrDefault(filter.TagKey ?? string.Empty),
            };
            var hit = value is not null && filter.Values.Contains(value, StringComparer.Ordinal);
            if (hit == filter.Negated)
            {
                return false;
            }
        }
        if (_query.Text.Count == 0)
        {
            return true;
        }
        // Same words as the stores' full-text search: every query word is a prefix of an event word.
        var exception = e.PrimaryException;
        var words = SqlFilter.Words($"{e.Message} {exception?.Type} {exception?.Value}");
        foreach (var term in _query.Text)
        {
            var hit = SqlFilter.Words(term.Text).All(q => words.Any(w => w.StartsWith(q, StringComparison.Ordinal)));
            if (hit == term.Negated)
            {
                return false;
            }
        }
        return true;
    }
}
