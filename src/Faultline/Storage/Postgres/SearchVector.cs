using System.Text;
using Faultline.Events;
using Faultline.Search;
using NpgsqlTypes;

namespace Faultline.Storage.Postgres;

/// <summary>
/// The full-text vector of an event, built in .NET and copied in binary so PostgreSQL does no text
/// parsing per row. Same words as the query side (<see cref="SqlFilter.Words"/>), with positions so
/// phrase queries (&lt;-&gt;) work.
/// </summary>
internal static class SearchVector
{
    // PostgreSQL's limits: positions up to 16383, lexemes under 2 KB.
    private const int MaxPosition = 16383;
    private const int MaxLexemeLength = 2046;

    public static NpgsqlTsVector For(FaultlineEvent e)
    {
        var exception = e.PrimaryException;
        var positions = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var position = 0;
        foreach (var text in (string?[])[e.Message, exception?.Type, exception?.Value])
        {
            if (string.IsNullOrEmpty(text))
            {
                continue;
            }
            foreach (var word in SqlFilter.Words(text))
            {
                if (++position > MaxPosition)
                {
                    break;
                }
                if (word.Length > MaxLexemeLength)
                {
                    continue;
                }
                if (!positions.TryGetValue(word, out var list))
                {
                    positions[word] = list = [];
                }
                list.Add(position);
            }
        }
        // Npgsql builds a vector only from its text form. Parse is marked obsolete because it cannot
        // reproduce PostgreSQL's parser for arbitrary text; ours is letters and digits with positions.
        var vector = new StringBuilder();
        foreach (var (word, at) in positions)
        {
            vector.Append(word).Append(':').AppendJoin(',', at).Append(' ');
        }
#pragma warning disable CS0618
        return NpgsqlTsVector.Parse(vector.ToString());
#pragma warning restore CS0618
    }
}
