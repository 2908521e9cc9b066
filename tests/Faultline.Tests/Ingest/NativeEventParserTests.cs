using System.Text;
using System.Text.Json;
using Faultline.Ingest;

namespace Faultline.Tests.Ingest;

public class NativeEventParserTests
{
    private static List<string> Messages(string body, IngestOptions? options = null)
    {
        var documents = NativeEventParser.Parse(Encoding.UTF8.GetBytes(body), options ?? new IngestOptions());
        try
        {
            return documents.Select(d => d.RootElement.GetProperty("message").GetString()!).ToList();
        }
        finally
        {
            NativeEventParser.DisposeAll(documents);
        }
    }

    private static IngestRejectedException Rejected(string body, IngestOptions? options = null) =>
        Rejected(Encoding.UTF8.GetBytes(body), options);

    private static IngestRejectedException Rejected(byte[] body, IngestOptions? options = null) =>
        Assert.Throws<IngestRejectedException>(() => NativeEventParser.Parse(body, options ?? new IngestOptions()));

    [Fact]
    public void A_single_object_is_one_event()
    {
        Assert.Equal(["one"], Messages("""{"message": "one", "tags": {"a": "b"}}"""));
    }

    [Fact]
    public void An_array_of_objects_is_one_event_each_in_order()
    {
        Assert.Equal(["one", "two", "three"], Messages("""[{"message": "one"}, {"message": "two"}, {"message": "three"}]"""));
    }

    [Fact]
    public void Ndjson_with_blank_lines_is_one_event_per_line()
    {
        var body = "{\"message\": \"one\"}\n\n{\"message\": \"two\"}\r\n\n  \n{\"message\": \"three\"}\n";

        Assert.Equal(["one", "two", "three"], Messages(body));
    }

    [Fact]
    public void Concatenated_objects_without_separators_are_separate_events()
    {
        Assert.Equal(["one", "two"], Messages("""{"message": "one"}{"message": "two"}"""));
    }

    [Fact]
    public void Arrays_and_objects_may_follow_each_other()
    {
        Assert.Equal(["one", "two", "three"], Messages("[{\"message\": \"one\"}, {\"message\": \"two\"}]\n{\"message\": \"three\"}"));
    }

    [Fact]
    public void Each_event_is_its_own_document_with_nested_values()
    {
        var documents = NativeEventParser.Parse("""[{"message": "a", "extra": {"n": [1, 2]}}, {"message": "b"}]"""u8, new IngestOptions());
        try
        {
            Assert.Equal(2, documents.Count);
            Assert.Equal(JsonValueKind.Object, documents[0].RootElement.ValueKind);
            Assert.Equal(2, documents[0].RootElement.GetProperty("extra").GetProperty("n")[1].GetInt32());
            Assert.False(documents[1].RootElement.TryGetProperty("extra", out _));
        }
        finally
        {
            NativeEventParser.DisposeAll(documents);
        }
    }

    [Fact]
    public void Comments_between_events_are_skipped()
    {
        Assert.Equal(["one", "two"], Messages("// first\n{\"message\": \"one\"}\n/* second */ {\"message\": \"two\"}"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\n  ")]
    [InlineData("[]")]
    public void A_body_without_events_is_rejected_with_400(string body)
    {
        var error = Rejected(body);

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("malformed", error.Reason);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("\"an event\"")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("{\"message\": \"ok\"}\n7")]
    public void A_scalar_is_rejected_with_400(string body)
    {
        var error = Rejected(body);

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("malformed", error.Reason);
    }

    [Fact]
    public void A_scalar_inside_an_array_is_rejected_with_its_event_path()
    {
        var error = Assert.Throws<EventValidationException>(() =>
            NativeEventParser.Parse("""[{"message": "ok"}, 5]"""u8, new IngestOptions()));

        Assert.Equal("events[1]", error.Field);
    }

    [Fact]
    public void Invalid_json_is_rejected_with_400_naming_the_line()
    {
        var error = Rejected("{\"message\": \"one\"}\n{\"message\": nope}\n");

        Assert.Equal(400, error.StatusCode);
        Assert.Contains("line 2", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_body_is_rejected_with_400()
    {
        var error = Rejected("""[{"message": "one"}, {"message": "tw""");

        Assert.Equal(400, error.StatusCode);
        Assert.Contains("line 1", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_in_an_event_is_rejected_as_bad_input_before_normalising()
    {
        // 0xC3 0x28 is not UTF-8. Either the parser (400) or the normaliser (a field error) must refuse
        // it; an InvalidOperationException from JsonElement.GetString would be a 500.
        byte[] body = [.. "{\"message\": \""u8, 0xC3, 0x28, .. "\"}"u8];

        var error = Record.Exception(() =>
        {
            var documents = NativeEventParser.Parse(body, new IngestOptions());
            try
            {
                var normalizer = new EventNormalizer(new IngestOptions(), strict: true);
                return documents.Select((d, i) => normalizer.Normalize(d.RootElement, NativeEventParser.Path(i), DateTimeOffset.UnixEpoch)).ToList();
            }
            finally
            {
                NativeEventParser.DisposeAll(documents);
            }
        });

        Assert.True(error is IngestRejectedException { StatusCode: 400 } or EventValidationException,
            $"expected a 400 rejection, got {error?.GetType().Name ?? "no exception"}: {error?.Message}");
    }

    [Fact]
    public void Too_many_events_are_rejected_with_413()
    {
        var options = new IngestOptions { MaxEventsPerRequest = 2 };

        var error = Rejected("{\"message\": \"1\"}\n{\"message\": \"2\"}\n{\"message\": \"3\"}", options);

        Assert.Equal(413, error.StatusCode);
        Assert.Equal("too_large", error.Reason);
        Assert.Contains("2", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Exactly_the_maximum_number_of_events_is_accepted()
    {
        var options = new IngestOptions { MaxEventsPerRequest = 2 };

        Assert.Equal(["1", "2"], Messages("""[{"message": "1"}, {"message": "2"}]""", options));
    }

    [Fact]
    public void Too_many_events_in_an_array_are_rejected_with_413()
    {
        var options = new IngestOptions { MaxEventsPerRequest = 3 };
        var body = "[" + string.Join(",", Enumerable.Repeat("{\"message\": \"x\"}", 4)) + "]";

        Assert.Equal(413, Rejected(body, options).StatusCode);
    }

    [Fact]
    public void One_event_over_the_size_limit_is_rejected_with_413_naming_it()
    {
        var options = new IngestOptions { MaxEventBytes = 1024 };
        var body = $$"""[{"message": "small"}, {"message": "{{new string('x', 2000)}}"}]""";

        var error = Rejected(body, options);

        Assert.Equal(413, error.StatusCode);
        Assert.Contains("events[1]", error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Events_under_the_size_limit_pass_even_when_the_body_is_larger()
    {
        var options = new IngestOptions { MaxEventBytes = 1024 };
        var body = string.Join("\n", Enumerable.Range(0, 5).Select(i => $$"""{"message": "{{i}}{{new string('x', 900)}}"}"""));

        Assert.Equal(5, Messages(body, options).Count);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_rejected_with_400()
    {
        var options = new IngestOptions { MaxJsonDepth = 8 };
        var body = "{\"extra\": " + new string('[', 20) + new string(']', 20) + "}";

        var error = Rejected(body, options);

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("malformed", error.Reason);
    }

    [Fact]
    public void Nesting_within_the_limit_is_accepted()
    {
        var options = new IngestOptions { MaxJsonDepth = 8 };
        var body = "{\"message\": \"ok\", \"extra\": " + new string('[', 6) + new string(']', 6) + "}";

        Assert.Equal(["ok"], Messages(body, options));
    }

    [Fact]
    public void Hostile_deep_nesting_is_rejected_with_400_at_the_default_limit()
    {
        var body = string.Concat(Enumerable.Repeat("{\"a\":", 100_000));

        Assert.Equal(400, Rejected(body).StatusCode);
    }

    [Fact]
    public void Event_paths_are_zero_based()
    {
        Assert.Equal("events[0]", NativeEventParser.Path(0));
        Assert.Equal("events[12]", NativeEventParser.Path(12));
    }
}
