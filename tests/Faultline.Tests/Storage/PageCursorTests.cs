using System.Text;
using Faultline.Storage;

namespace Faultline.Tests.Storage;

public class PageCursorTests
{
    private static string Base64Url(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [Theory]
    [InlineData(1_795_602_600_000L, "0195f2c4-7d3a-7000-8000-000000000001")]
    [InlineData(0L, "1")]
    [InlineData(-42L, "issue-7")]
    [InlineData(long.MaxValue, "x")]
    [InlineData(long.MinValue, "x")]
    [InlineData(17L, "a|b|c")]
    [InlineData(17L, "ünïcödé ✓")]
    public void A_cursor_survives_a_round_trip(long sortValue, string id)
    {
        var cursor = new PageCursor(sortValue, id);

        Assert.True(PageCursor.TryDecode(cursor.Encode(), out var decoded));

        Assert.Equal(cursor, decoded);
    }

    [Fact]
    public void A_previous_page_cursor_keeps_its_direction_and_differs_from_the_next_page_cursor()
    {
        var before = new PageCursor(123, "abc", Before: true);

        Assert.True(PageCursor.TryDecode(before.Encode(), out var decoded));

        Assert.Equal(before, decoded);
        Assert.NotEqual(new PageCursor(123, "abc").Encode(), before.Encode());
        Assert.True(PageCursor.TryDecode(new PageCursor(123, "abc").Encode(), out var forward));
        Assert.False(forward.Before);
    }

    [Fact]
    public void An_encoded_cursor_is_url_safe()
    {
        // These bytes encode to '+', '/' and '=' in standard base64.
        var encoded = new PageCursor(-1, "??>>~~~").Encode();

        Assert.DoesNotContain('+', encoded);
        Assert.DoesNotContain('/', encoded);
        Assert.DoesNotContain('=', encoded);
        Assert.Equal(Base64Url("-1|??>>~~~"), encoded);
    }

    [Fact]
    public void The_encoding_is_base64url_of_sort_value_and_id()
    {
        Assert.Equal("MTIzfGFiYw", new PageCursor(123, "abc").Encode());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("!!!!")]
    [InlineData("not a cursor")]
    [InlineData("A")]
    [InlineData("%%%")]
    public void Garbage_is_not_a_cursor(string? text)
    {
        Assert.False(PageCursor.TryDecode(text, out var cursor));
        Assert.Equal(default, cursor);
    }

    [Fact]
    public void A_cursor_longer_than_200_characters_is_refused_even_when_well_formed()
    {
        var text = new PageCursor(5, new string('i', 200)).Encode();

        Assert.True(text.Length > 200);
        Assert.False(PageCursor.TryDecode(text, out _));
    }

    [Fact]
    public void A_cursor_of_exactly_200_characters_is_accepted()
    {
        // "5|" plus 148 characters is 150 bytes, which base64 encodes in exactly 200 characters.
        var cursor = new PageCursor(5, new string('i', 148));
        var text = cursor.Encode();

        Assert.Equal(200, text.Length);
        Assert.True(PageCursor.TryDecode(text, out var decoded));
        Assert.Equal(cursor, decoded);
    }

    [Theory]
    [InlineData("123abc")]
    [InlineData("123")]
    [InlineData("abc|id")]
    [InlineData("12.5|id")]
    [InlineData("99999999999999999999|id")]
    [InlineData("5|")]
    [InlineData("|id")]
    public void Decoded_text_without_a_number_separator_and_id_is_refused(string plain)
    {
        Assert.False(PageCursor.TryDecode(Base64Url(plain), out var cursor));
        Assert.Equal(default, cursor);
    }

    [Fact]
    public void Standard_base64_padding_is_tolerated()
    {
        Assert.True(PageCursor.TryDecode("MTIzfGFiYw==", out var cursor));

        Assert.Equal(new PageCursor(123, "abc"), cursor);
    }
}
