using Faultline.Search;

namespace Faultline.Storage.Postgres;

internal sealed class PostgresSearchDialect : ISearchDialect
{
    public static PostgresSearchDialect Instance { get; } = new();

    public string TagEquals(string eventAlias, string keyParameter, string valueParameter) =>
        $"{eventAlias}.tags @> jsonb_build_object({keyParameter}::text, {valueParameter}::text)";

    public string TextMatches(string eventAlias, string textParameter) =>
        $"{eventAlias}.search @@ to_tsquery('simple', {textParameter})";

    // Words are letters and digits only, so no tsquery operator can come from the user.
    // Every word is a prefix; a quoted phrase keeps its word order.
    public string TextQuery(TextTerm term)
    {
        var words = SqlFilter.Words(term.Text);
        var separator = term.Text.Any(char.IsWhiteSpace) ? " <-> " : " & ";
        return string.Join(separator, words.Select(w => w + ":*"));
    }

    public object Timestamp(DateTimeOffset value) => value.ToUniversalTime();
}
