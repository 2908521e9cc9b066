using System.Globalization;
using System.Text;

namespace Faultline.Storage;

/// <summary>
/// Keyset pagination cursor: the sort value and the id of the last row of a page, so the next page
/// starts right after it however many rows are inserted meanwhile. Opaque to clients.
/// A <see cref="Before"/> cursor holds the first row of a page and asks for the page before it.
/// </summary>
public readonly record struct PageCursor(long SortValue, string Id, bool Before = false)
{
    private const char BeforeMark = '<';

    public string Encode() =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{(Before ? BeforeMark.ToString() : "")}{SortValue.ToString(CultureInfo.InvariantCulture)}|{Id}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string? text, out PageCursor cursor)
    {
        cursor = default;
        if (string.IsNullOrEmpty(text) || text.Length > 200)
        {
            return false;
        }
        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var plain = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            var before = plain.StartsWith(BeforeMark);
            var parts = plain[(before ? 1 : 0)..].Split('|', 2);
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var sort) && parts[1].Length > 0)
            {
                cursor = new PageCursor(sort, parts[1], before);
                return true;
            }
        }
        catch (FormatException)
        {
        }
        return false;
    }
}

/// <summary>A cursor the client sent that is not one we issued.</summary>
public sealed class InvalidCursorException() : Exception("The cursor is not valid: pass back the nextCursor (or previousCursor) value of a page.");
