using Faultline.Search;

namespace Faultline.Storage.Sqlite;

internal sealed class SqliteSearchDialect : ISearchDialect
{
    public static SqliteSearchDialect Instance { get; } = new();

    public string TagEquals(string eventAlias, string keyParameter, string valueParameter) =>
        $"EXISTS (SELECT 1 FROM json_each({eventAlias}.tags) WHERE json_each.key = {keyParameter} AND json_each.value = {valueParameter})";

    public string TextMatches(string eventAlias, string textParameter) =>
        $"{eventAlias}.row_id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH {textParameter})";

    // FTS5 syntax: each word quoted (so no operator can be injected) and matched as a prefix,
    // so "timeout" finds TimeoutException as PostgreSQL's prefix query does.
    public string TextQuery(TextTerm term)
    {
        var words = SqlFilter.Words(term.Text);
        // A quoted phrase keeps its word order, as PostgreSQL's <-> does.
        return term.Text.Any(char.IsWhiteSpace)
            ? $"\"{string.Join(' ', words)}\"*"
            : string.Join(' ', words.Select(w => $"\"{w}\"*"));
    }

    public object Timestamp(DateTimeOffset value) => (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
}
