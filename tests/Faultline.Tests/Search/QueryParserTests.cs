using System.Globalization;
using System.Text;
using Faultline.Search;

namespace Faultline.Tests.Search;

public class QueryParserTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 15, 12, 0, 0, TimeSpan.Zero);

    private static SearchQuery Parse(string? query) => QueryParser.Parse(query, Now);

    private static QuerySyntaxException Fails(string query) =>
        Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(query, Now));

    private static FieldFilter OnlyFilter(string query) => Assert.Single(Parse(query).Filters);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" \t\r\n ")]
    public void Empty_or_whitespace_query_is_the_empty_query(string? query)
    {
        Assert.Same(SearchQuery.Empty, Parse(query));
        Assert.True(SearchQuery.Empty.IsEmpty);
    }

    [Fact]
    public void Bare_words_become_separate_text_terms()
    {
        var result = Parse("NullReference   in\tcheckout - x");

        Assert.Equal([new("NullReference", false), new("in", false), new("checkout", false), new("-", false), new("x", false)], result.Text);
        Assert.False(result.IsEmpty);
        Assert.Empty(result.Filters);
    }

    [Theory]
    [InlineData("\"Object \\\"x\\\" not set\"", "Object \"x\" not set", false)]
    [InlineData("\"C:\\app\\x.dll\"", @"C:\app\x.dll", false)]
    [InlineData("\"a\\\\b\"", @"a\b", false)]
    [InlineData("-timeout", "timeout", true)]
    [InlineData("!timeout", "timeout", true)]
    [InlineData("-\"connection reset\"", "connection reset", true)]
    public void Words_and_quoted_phrases_are_text_terms(string query, string text, bool negated)
    {
        Assert.Equal(new TextTerm(text, negated), Assert.Single(Parse(query).Text));
    }

    [Theory]
    [InlineData("level:error", FilterField.Level, null, "error")]
    [InlineData("LEVEL:Warn", FilterField.Level, null, "warning")]
    [InlineData("level:FATAL", FilterField.Level, null, "fatal")]
    [InlineData("env:production", FilterField.Environment, null, "production")]
    [InlineData("environment:Prod", FilterField.Environment, null, "Prod")]
    [InlineData("release:\"1.2 \\\"beta\\\"\"", FilterField.Release, null, "1.2 \"beta\"")]
    [InlineData("logger:App.Checkout", FilterField.Logger, null, "App.Checkout")]
    [InlineData("issue:0042", FilterField.Issue, null, "42")]
    [InlineData("browser:Chrome", FilterField.Tag, "browser", "Chrome")]
    [InlineData("os.name:Linux", FilterField.Tag, "os.name", "Linux")]
    [InlineData("device-family:Pixel_7", FilterField.Tag, "device-family", "Pixel_7")]
    [InlineData("url:http://example.com/a?b=c", FilterField.Tag, "url", "http://example.com/a?b=c")]
    [InlineData("tags[sentry:user]:id:42", FilterField.Tag, "sentry:user", "id:42")]
    [InlineData("tags[level]:high", FilterField.Tag, "level", "high")]
    [InlineData("tags[is]:x", FilterField.Tag, "is", "x")]
    public void Key_value_terms_become_field_filters(string query, FilterField field, string? tagKey, string value)
    {
        var filter = OnlyFilter(query);

        Assert.Equal((field, tagKey, false), (filter.Field, filter.TagKey, filter.Negated));
        Assert.Equal([value], filter.Values);
    }

    [Theory]
    [InlineData("level:error,fatal,warn,warning", "error", "fatal", "warning")]
    [InlineData("release:\"1.2 beta\",2.0,\"3 rc\"", "1.2 beta", "2.0", "3 rc")]
    [InlineData("issue:7,0007,8", "7", "8")]
    public void Comma_list_means_any_of_the_values_without_duplicates(string query, params string[] values)
    {
        Assert.Equal(values, OnlyFilter(query).Values);
    }

    [Theory]
    [InlineData("-level:debug")]
    [InlineData("!level:debug")]
    public void Filter_can_be_negated(string query)
    {
        var filter = OnlyFilter(query);

        Assert.True(filter.Negated);
        Assert.Equal(["debug"], filter.Values);
    }

    [Fact]
    public void Is_terms_and_together_and_can_be_negated()
    {
        var result = Parse("is:unresolved IS:Regressed -is:resolved !is:ignored is:reviewed is:unreviewed");

        Assert.Equal(
            [new("unresolved", false), new("regressed", false), new("resolved", true), new("ignored", true),
             new("reviewed", false), new("unreviewed", false)],
            result.Statuses);
        Assert.Empty(result.Filters);
    }

    [Theory]
    [InlineData("since:2024-05-01", "2024-05-01T00:00:00+00:00")]
    [InlineData("since:2024-05-01T13:45", "2024-05-01T13:45:00+00:00")]
    [InlineData("since:2024-05-01T13:45:30", "2024-05-01T13:45:30+00:00")]
    [InlineData("since:2024-05-01T13:45:30Z", "2024-05-01T13:45:30+00:00")]
    [InlineData("since:2024-05-01T13:45:30.25Z", "2024-05-01T13:45:30.25+00:00")]
    [InlineData("since:2024-05-01T13:45:30+02:00", "2024-05-01T11:45:30+00:00")]
    [InlineData("since:\"2024-05-01T13:45:30-05:00\"", "2024-05-01T18:45:30+00:00")]
    public void Since_accepts_iso_dates_as_utc_unless_an_offset_is_given(string query, string expected)
    {
        var since = Parse(query).Since;

        Assert.Equal(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture), since);
        Assert.Equal(TimeSpan.Zero, since!.Value.Offset);
    }

    [Theory]
    [InlineData("-24h", 24 * 60)]
    [InlineData("24h", 24 * 60)]
    [InlineData("30m", 30)]
    [InlineData("7d", 7 * 24 * 60)]
    [InlineData("2w", 14 * 24 * 60)]
    [InlineData("0m", 0)]
    public void Relative_ages_count_back_from_now(string age, int minutes)
    {
        var expected = Now - TimeSpan.FromMinutes(minutes);

        Assert.Equal(expected, Parse("since:" + age).Since);
        Assert.Equal(expected, Parse("until:" + age).Until);
    }

    [Fact]
    public void Relative_ages_are_in_utc_whatever_the_offset_of_now()
    {
        var since = QueryParser.Parse("since:1h", new DateTimeOffset(2025, 6, 15, 14, 0, 0, TimeSpan.FromHours(2))).Since;

        Assert.Equal(new DateTimeOffset(2025, 6, 15, 11, 0, 0, TimeSpan.Zero), since);
        Assert.Equal(TimeSpan.Zero, since!.Value.Offset);
    }

    [Fact]
    public void Age_minus_means_newer_than_and_age_plus_means_older_than()
    {
        var result = Parse("age:-24h age:+1h");

        Assert.Equal(Now.AddHours(-24), result.Since);
        Assert.Equal(Now.AddHours(-1), result.Until);
    }

    [Fact]
    public void Repeated_time_bounds_keep_the_narrowest_window()
    {
        var result = Parse("since:7d since:2025-06-14 until:2025-06-15T11:00:00Z until:3h");

        Assert.Equal(new DateTimeOffset(2025, 6, 14, 0, 0, 0, TimeSpan.Zero), result.Since);
        Assert.Equal(Now.AddHours(-3), result.Until);
    }

    [Fact]
    public void Mixed_query_parses_every_part()
    {
        var result = Parse("is:unresolved level:error,fatal env:prod -browser:IE \"db timeout\" -healthcheck since:24h until:2025-06-15");

        Assert.Equal([new("unresolved", false)], result.Statuses);
        Assert.Equal([FilterField.Level, FilterField.Environment, FilterField.Tag], result.Filters.Select(f => f.Field));
        Assert.Equal(("browser", true), (result.Filters[2].TagKey, result.Filters[2].Negated));
        Assert.Equal([new("db timeout", false), new("healthcheck", true)], result.Text);
        Assert.Equal(Now.AddHours(-24), result.Since);
        Assert.Equal(new DateTimeOffset(2025, 6, 15, 0, 0, 0, TimeSpan.Zero), result.Until);
    }

    [Fact]
    public void Unknown_level_says_what_and_where()
    {
        var error = Fails("level:errr");

        Assert.Equal(6, error.Position);
        Assert.Equal("Unknown level 'errr' at position 6: expected one of fatal, error, warning, info, debug", error.Message);
    }

    [Theory]
    [InlineData("level:error,nope", 12, "Unknown level 'nope'")]
    [InlineData("level:error is:open", 15, "Unknown status 'open' at position 15: expected one of unresolved,")]
    [InlineData("is:resolved,ignored", 11, "'is' takes a single value")]
    [InlineData("issue:abc", 6, "Invalid issue id 'abc'")]
    [InlineData("issue:-5", 6, "Invalid issue id")]
    [InlineData("issue:99999999999999999999", 6, "Invalid issue id")]
    [InlineData("issue:١٢", 6, "Invalid issue id")]
    [InlineData("\"unterminated phrase", 0, "Unterminated quote at position 0")]
    [InlineData("a -\"unterminated", 3, "Unterminated quote at position 3")]
    [InlineData("release:\"1.2 beta", 8, "Unterminated quote at position 8")]
    [InlineData("release:\"ends with escape\\\"", 8, "Unterminated quote")]
    [InlineData("level:", 6, "Empty value for 'level' at position 6")]
    [InlineData("level: error", 6, "Empty value for 'level'")]
    [InlineData("level:error,", 12, "Empty value for 'level'")]
    [InlineData("level:,error", 6, "Empty value for 'level'")]
    [InlineData("release:\"\"", 8, "Empty value for 'release'")]
    [InlineData("browser:", 8, "Empty value for 'browser'")]
    [InlineData("a \"\"", 2, "Empty quoted phrase")]
    [InlineData("\"phrase\"tail", 8, "Unexpected 't'")]
    [InlineData("release:\"1.2\"x", 13, "Unexpected 'x'")]
    [InlineData("foo$:bar", 0, "Invalid key in 'foo$:bar'")]
    [InlineData(":bar", 0, "Invalid key")]
    [InlineData("ok a/b:c", 3, "Invalid key")]
    [InlineData("-x y!:z", 3, "Invalid key")]
    [InlineData("tags[browser:x", 0, "Unterminated tags[")]
    [InlineData("tags[]:x", 5, "Invalid tag key")]
    [InlineData("tags[a b]:x", 5, "Invalid tag key")]
    [InlineData("tags[browser]x", 13, "Expected ':'")]
    [InlineData("since:yesterday", 6, "Invalid date 'yesterday'")]
    [InlineData("since:2024-02-30", 6, "Invalid date")]
    [InlineData("since:2024-5-1", 6, "Invalid date")]
    [InlineData("since:+24h", 6, "Invalid date")]
    [InlineData("since:24y", 6, "Invalid date")]
    [InlineData("until:2024-05-01T25:00", 6, "Invalid date")]
    [InlineData("until:01/05/2024", 6, "Invalid date")]
    [InlineData("since:1d,2d", 8, "'since' takes a single value")]
    [InlineData("since:999999999w", 6, "Relative age '999999999w' is out of range")]
    [InlineData("since:999999w", 6, "Relative age '999999w' is out of range")]
    [InlineData("age:24h", 4, "Invalid age")]
    [InlineData("age:2024-05-01", 4, "Invalid age")]
    [InlineData("age:-3y", 4, "Invalid age")]
    [InlineData("-since:1d", 0, "'since' cannot be negated")]
    [InlineData("x !until:1d", 2, "'until' cannot be negated")]
    [InlineData("-age:-1d", 0, "'age' cannot be negated")]
    [InlineData("since:2024-06-01 until:2024-05-01", 17, "Time range is empty at position 17")]
    [InlineData("until:2024-05-01 age:-1d", 17, "Time range is empty")]
    [InlineData("level:\u0001", 6, "Unknown level '\\u0001'")]
    public void Syntax_error_says_what_and_where(string query, int position, string messageStart)
    {
        var error = Fails(query);

        Assert.Equal(position, error.Position);
        Assert.StartsWith(messageStart, error.Message, StringComparison.Ordinal);
        Assert.Contains($"at position {position}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_up_to_200_characters_are_accepted_and_longer_ones_refused()
    {
        var key = new string('k', QueryParser.MaxKeyLength);

        Assert.Equal(key, OnlyFilter(key + ":v").TagKey);
        Assert.Equal(key, OnlyFilter($"tags[{key}]:v").TagKey);
        Assert.StartsWith("Key too long at position 0", Fails(key + "k:v").Message, StringComparison.Ordinal);
        Assert.StartsWith("Invalid tag key", Fails($"tags[{key}k]:v").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Query_of_max_length_is_accepted_and_longer_is_refused()
    {
        var atLimit = "x " + new string('y', QueryParser.MaxQueryLength - 2);

        Assert.Equal(2, Parse(atLimit).Text.Count);
        var error = Fails(atLimit + "y");
        Assert.Equal(QueryParser.MaxQueryLength, error.Position);
        Assert.StartsWith("Query too long at position 2000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fifty_terms_are_accepted_and_the_fifty_first_is_refused()
    {
        var fifty = string.Join(' ', Enumerable.Range(0, QueryParser.MaxTerms).Select(i => "w" + i));

        Assert.Equal(QueryParser.MaxTerms, Parse(fifty).Text.Count);
        var error = Fails(fifty + " extra");
        Assert.Equal(fifty.Length + 1, error.Position);
        Assert.StartsWith("Too many terms", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_input_is_shortened_in_error_messages()
    {
        var error = Fails("level:" + new string('x', 500));

        Assert.Contains("...'", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 200);
    }

    [Theory]
    [InlineData("since:2w")]
    [InlineData("age:+1d")]
    public void Relative_age_before_the_start_of_the_calendar_is_an_error(string query)
    {
        var error = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(query, DateTimeOffset.MinValue.AddHours(1)));

        Assert.Contains("is out of range", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_reports_success_and_failure_without_throwing()
    {
        Assert.True(QueryParser.TryParse("level:error", Now, out var ok, out var none));
        Assert.Null(none);
        Assert.Single(ok.Filters);

        Assert.False(QueryParser.TryParse("level:errr", Now, out var failed, out var error));
        Assert.Same(SearchQuery.Empty, failed);
        Assert.Equal(6, error!.Position);
    }

    [Fact]
    public void Random_garbage_only_ever_fails_with_a_query_syntax_exception()
    {
        string[] fragments =
        [
            "\"", "\\", ":", ",", "-", "!", " ", "\t", "[", "]", "tags[", "level:", "is:", " since:", " until:", " age:",
            "env:", "issue:", "release:", "error", "warn", "-24h", "+7d", "2w", "2024-05-01", "T12:00:00Z", "99999999999",
            "é", "😀", "\ud800", "\0", "\n", "a", "Z", "0", "w", ".", "resolved",
        ];
        var random = new Random(20250615);
        for (var i = 0; i < 5000; i++)
        {
            var sb = new StringBuilder();
            var parts = random.Next(0, 30);
            for (var p = 0; p < parts; p++)
                sb.Append(random.Next(8) == 0 ? (char)random.Next(0, 0x3000) : fragments[random.Next(fragments.Length)]);
            var query = sb.ToString();
            // An extreme "now" makes relative ages fall off the calendar.
            var now = random.Next(10) == 0 ? DateTimeOffset.MinValue.AddDays(1) : Now;

            // Anything but QuerySyntaxException escapes the try and fails the test.
            try
            {
                QueryParser.Parse(query, now);
            }
            catch (QuerySyntaxException e)
            {
                Assert.InRange(e.Position, 0, query.Length);
                Assert.Contains($"at position {e.Position}", e.Message, StringComparison.Ordinal);
            }
        }
    }
}
