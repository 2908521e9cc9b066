using Faultline.Events;
using Faultline.Live;
using Faultline.Search;
using Faultline.Storage;

namespace Faultline.Alerts;

/// <summary>
/// A rule's event filter (minimum level, environment, release, search query) in two forms: in memory
/// for committed events, and as a <see cref="SearchQuery"/> for rebuilding windows from the store.
/// </summary>
public sealed class RuleMatcher
{
    private readonly AlertRuleDraft _rule;
    private readonly LiveFilter _query;

    private RuleMatcher(AlertRuleDraft rule, LiveFilter query, SearchQuery storeQuery)
    {
        _rule = rule;
        _query = query;
        StoreQuery = storeQuery;
    }

    /// <summary>The same filter for the store (level is passed separately as a minimum).</summary>
    public SearchQuery StoreQuery { get; }

    public EventLevel? MinLevel => _rule.MinLevel;

    /// <summary>Parses the rule's query; throws <see cref="QuerySyntaxException"/> when it is not valid for rules.</summary>
    public static RuleMatcher Create(AlertRuleDraft rule, DateTimeOffset now)
    {
        var parsed = QueryParser.Parse(rule.Query, now) with { Since = null, Until = null };
        if (parsed.Statuses.Count > 0)
        {
            throw new QuerySyntaxException("is: filters are not available in alert rules (rules match events as they arrive, before any triage).", 0);
        }
        var live = LiveFilter.Parse(rule.Query, null, now);
        var filters = parsed.Filters.ToList();
        if (rule.Environment is { } environment)
        {
            filters.Add(new FieldFilter(FilterField.Environment, null, [environment], false));
        }
        if (rule.Release is { } release)
        {
            filters.Add(new FieldFilter(FilterField.Release, null, [release], false));
        }
        return new RuleMatcher(rule, live, parsed with { Filters = filters });
    }

    public bool Matches(StoredEvent stored)
    {
        var e = stored.Event.Event;
        if (_rule.MinLevel is { } level && e.Level < level)
        {
            return false;
        }
        if (_rule.Environment is { } environment && !string.Equals(e.Environment, environment, StringComparison.Ordinal))
        {
            return false;
        }
        if (_rule.Release is { } release && !string.Equals(e.Release, release, StringComparison.Ordinal))
        {
            return false;
        }
        return _query.Matches(stored);
    }
}

/// <summary>
/// The newest receive times of matching events, at most <c>threshold + 1</c> of them: "more than N in W"
/// holds exactly when the (N+1)-th newest is inside the window, so nothing older needs keeping.
/// Entries are keyed by event id, so events seen both in the store (at rebuild) and in a batch count once.
/// </summary>
public sealed class SlidingWindow(int threshold)
{
    private readonly SortedSet<(long Ticks, Guid EventId)> _newest = [];

    public int Capacity { get; } = threshold + 1;

    public DateTimeOffset? Newest => _newest.Count == 0 ? null : new DateTimeOffset(_newest.Max.Ticks, TimeSpan.Zero);

    public void Add(Guid eventId, DateTimeOffset receivedAt)
    {
        _newest.Add((receivedAt.UtcTicks, eventId));
        if (_newest.Count > Capacity)
        {
            _newest.Remove(_newest.Min);
        }
    }

    /// <summary>Events received at or after <paramref name="since"/> (capped at threshold + 1).</summary>
    public int CountSince(DateTimeOffset since)
    {
        _newest.RemoveWhere(e => e.Ticks < since.UtcTicks);
        return _newest.Count;
    }

    public bool Exceeded(DateTimeOffset since) => CountSince(since) > Capacity - 1;
}
