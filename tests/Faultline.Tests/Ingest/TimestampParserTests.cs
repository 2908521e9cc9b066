using System.Text.Json;
using Faultline.Ingest;

namespace Faultline.Tests.Ingest;

public class TimestampParserTests
{
    private static readonly DateTimeOffset HalfPastTen = new(2026, 11, 25, 10, 30, 0, TimeSpan.Zero);

    private static bool TryParseJson(string json, out DateTimeOffset timestamp)
    {
        using var document = JsonDocument.Parse(json);
        return TimestampParser.TryParse(document.RootElement, out timestamp);
    }

    [Theory]
    [InlineData("2026-11-25T10:30:00Z")]
    [InlineData("2026-11-25T10:30:00+00:00")]
    [InlineData("2026-11-25T12:30:00+02:00")]
    [InlineData("2026-11-25T05:30:00-05:00")]
    [InlineData("2026-11-25T10:30:00.0000000Z")]
    public void A_string_with_an_offset_is_converted_to_utc(string text)
    {
        Assert.True(TimestampParser.TryParse(text, out var timestamp));

        Assert.Equal(HalfPastTen, timestamp);
        Assert.Equal(TimeSpan.Zero, timestamp.Offset);
    }

    [Theory]
    [InlineData("2026-11-25T10:30:00")]
    [InlineData("2026-11-25 10:30:00")]
    public void A_string_without_an_offset_is_taken_as_utc(string text)
    {
        Assert.True(TimestampParser.TryParse(text, out var timestamp));

        Assert.Equal(HalfPastTen, timestamp);
        Assert.Equal(TimeSpan.Zero, timestamp.Offset);
    }

    [Fact]
    public void A_string_keeps_its_fraction_of_a_second()
    {
        Assert.True(TimestampParser.TryParse("2026-11-25T10:30:00.1234567Z", out var timestamp));

        Assert.Equal(HalfPastTen.AddTicks(1_234_567), timestamp);
    }

    [Theory]
    [InlineData("1795602600")]
    [InlineData("1795602600.0")]
    [InlineData("1.7956026e9")]
    public void Epoch_seconds_as_a_string_are_accepted(string text)
    {
        Assert.True(TimestampParser.TryParse(text, out var timestamp));

        Assert.Equal(HalfPastTen, timestamp);
    }

    [Fact]
    public void Epoch_seconds_as_a_json_integer_are_accepted()
    {
        Assert.True(TryParseJson("1795602600", out var timestamp));

        Assert.Equal(HalfPastTen, timestamp);
    }

    [Fact]
    public void Epoch_seconds_as_a_json_float_keep_the_fraction()
    {
        Assert.True(TryParseJson("1795602600.5", out var timestamp));

        Assert.Equal(HalfPastTen.AddMilliseconds(500), timestamp);
    }

    [Fact]
    public void Javascript_millisecond_precision_is_kept_to_the_millisecond()
    {
        Assert.True(TryParseJson("1795602600.123", out var timestamp));

        Assert.InRange(timestamp - HalfPastTen, TimeSpan.FromMilliseconds(122.99), TimeSpan.FromMilliseconds(123.01));
    }

    [Fact]
    public void A_json_string_is_parsed_like_text()
    {
        Assert.True(TryParseJson("\"2026-11-25T12:30:00+02:00\"", out var timestamp));

        Assert.Equal(HalfPastTen, timestamp);
    }

    [Fact]
    public void Epoch_zero_is_the_unix_epoch()
    {
        Assert.True(TryParseJson("0", out var timestamp));

        Assert.Equal(DateTimeOffset.UnixEpoch, timestamp);
    }

    [Fact]
    public void The_last_second_of_year_9999_is_accepted()
    {
        Assert.True(TryParseJson("253402300799", out var timestamp));

        // Seconds are scaled to ticks in double precision, which is exact only to some microseconds this far out.
        var lastSecond = new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero);
        Assert.InRange(timestamp, lastSecond.AddMilliseconds(-1), lastSecond.AddMilliseconds(1));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-1795602600.5")]
    [InlineData("253402300800")]
    [InlineData("1e300")]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("yesterday")]
    [InlineData("2026-13-45T10:30:00Z")]
    public void Text_that_is_no_usable_time_is_refused(string text)
    {
        Assert.False(TimestampParser.TryParse(text, out var timestamp));
        Assert.Equal(default, timestamp);
    }

    [Fact]
    public void Null_text_is_refused()
    {
        Assert.False(TimestampParser.TryParse((string?)null, out _));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-0.5")]
    [InlineData("253402300800")]
    [InlineData("1e300")]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("[1795602600]")]
    [InlineData("\"NaN\"")]
    [InlineData("\"not a date\"")]
    public void Json_that_is_no_usable_time_is_refused(string json)
    {
        Assert.False(TryParseJson(json, out var timestamp));
        Assert.Equal(default, timestamp);
    }
}
