namespace Faultline.Search;

/// <summary>The event fields a <see cref="FieldFilter"/> can match; anything else is a tag.</summary>
public enum FilterField
{
    Level,
    Environment,
    Release,
    Logger,
    Issue,
    Tag,
}

/// <summary>
/// One <c>key:value</c> term. <see cref="Values"/> are alternatives (OR); separate filters AND together.
/// <see cref="TagKey"/> is set only when <see cref="Field"/> is <see cref="FilterField.Tag"/>.
/// Level values are canonical lower-case names; issue values are canonical decimal ids.
/// </summary>
public sealed record FieldFilter(FilterField Field, string? TagKey, IReadOnlyList<string> Values, bool Negated);

/// <summary>A free-text word or phrase, matched against message and exception type/value.</summary>
public sealed record TextTerm(string Text, bool Negated);

/// <summary>An <c>is:</c> term. <see cref="Status"/> is one of unresolved, resolved, ignored, reviewed, unreviewed, regressed.</summary>
public sealed record StatusFilter(string Status, bool Negated);

/// <summary>
/// The parsed search bar. Every part ANDs with the others. <see cref="Since"/> and <see cref="Until"/>
/// are absolute UTC instants (relative ages are resolved at parse time).
/// </summary>
public sealed record SearchQuery(
    IReadOnlyList<FieldFilter> Filters,
    IReadOnlyList<TextTerm> Text,
    IReadOnlyList<StatusFilter> Statuses,
    DateTimeOffset? Since,
    DateTimeOffset? Until)
{
    public static SearchQuery Empty { get; } = new([], [], [], null, null);

    public bool IsEmpty =>
        Filters.Count == 0 && Text.Count == 0 && Statuses.Count == 0 && Since is null && Until is null;
}

/// <summary>A query the parser rejected; the message says what is wrong and where, for showing to the user.</summary>
public sealed class QuerySyntaxException : Exception
{
    public QuerySyntaxException(string message, int position)
        : base(message)
    {
        Position = position;
    }

    /// <summary>0-based character index in the query where the problem starts.</summary>
    public int Position { get; }
}
