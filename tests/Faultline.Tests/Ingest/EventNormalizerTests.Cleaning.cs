using System.Text.Json;
using Faultline.Events;
using Faultline.Ingest;

namespace Faultline.Tests.Ingest;

public partial class EventNormalizerTests
{
    // NUL characters and truncation.

    [Fact]
    public void Nul_characters_are_removed_from_strings()
    {
        var e = Normalize("""
            {"message": "disk\u0000 full", "release": "1.0\u0000",
             "tags": {"ke\u0000y": "va\u0000lue"},
             "exception": [{"type": "IO\u0000Error", "value": "v\u0000", "stacktrace": {"frames": [{"function": "ma\u0000in"}]}}]}
            """);

        Assert.Equal("disk full", e.Message);
        Assert.Equal("1.0", e.Release);
        Assert.Equal(new Dictionary<string, string> { ["key"] = "value" }, e.Tags);
        Assert.Equal("IOError", e.PrimaryException!.Type);
        Assert.Equal("v", e.PrimaryException.Value);
        Assert.Equal("main", e.PrimaryException.Frames[0].Function);
    }

    [Fact]
    public void Nul_characters_are_removed_from_passthrough_json()
    {
        var e = Normalize("""{"extra": {"na\u0000me": "bo\u0000b", "list": ["\u0000x", 1, {"deep": "y\u0000"}]}}""");

        var extra = e.Extra!.Value;
        Assert.DoesNotContain("\\u0000", extra.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("bob", extra.GetProperty("name").GetString());
        Assert.Equal("x", extra.GetProperty("list")[0].GetString());
        Assert.Equal(1, extra.GetProperty("list")[1].GetInt32());
        Assert.Equal("y", extra.GetProperty("list")[2].GetProperty("deep").GetString());
    }

    [Fact]
    public void Nul_characters_are_removed_from_breadcrumb_data()
    {
        var e = Normalize("""{"breadcrumbs": [{"data": {"url": "/a\u0000b"}}]}""");

        Assert.Equal("/ab", e.Breadcrumbs[0].Data!.Value.GetProperty("url").GetString());
    }

    [Fact]
    public void Message_and_exception_value_are_truncated_to_the_message_limit()
    {
        var options = new IngestOptions { MaxMessageLength = 64 };
        var text = new string('m', 100);

        var e = Normalize($$"""{"message": "{{text}}", "exception": [{"type": "E", "value": "{{text}}"}]}""", options: options);

        Assert.Equal(new string('m', 64), e.Message);
        Assert.Equal(new string('m', 64), e.PrimaryException!.Value);
    }

    [Fact]
    public void Message_template_is_truncated_to_the_message_limit()
    {
        var options = new IngestOptions { MaxMessageLength = 64 };
        var template = new string('t', 80) + " %s";

        var e = Normalize("{\"logentry\": {\"message\": \"" + template + "\", \"params\": [\"p\"]}}", options: options);

        Assert.Equal(new string('t', 64), e.MessageTemplate);
        Assert.Equal(new string('t', 64), e.Message);
    }

    [Fact]
    public void Tag_keys_and_values_are_truncated_to_the_tag_limit()
    {
        var options = new IngestOptions { MaxTagLength = 8 };

        var e = Normalize("""{"tags": {"a-very-long-tag-key": "a-very-long-tag-value"}}""", options: options);

        Assert.Equal(new Dictionary<string, string> { ["a-very-l"] = "a-very-l" }, e.Tags);
    }

    [Fact]
    public void Short_fields_are_truncated_to_the_short_field_limit()
    {
        var options = new IngestOptions { MaxShortFieldLength = 10 };

        var e = Normalize("""{"release": "1.2.3-beta.4+build.567", "exception": [{"type": "System.InvalidOperationException"}]}""", options: options);

        Assert.Equal("1.2.3-beta", e.Release);
        Assert.Equal("System.Inv", e.PrimaryException!.Type);
    }

    [Fact]
    public void Truncating_a_message_never_splits_a_surrogate_pair()
    {
        // A lone high surrogate is invalid UTF-16: PostgreSQL rejects it and JSON writers mangle it.
        var options = new IngestOptions { MaxMessageLength = 64 };

        var e = Normalize($$"""{"message": "{{new string('x', 63)}}😀tail"}""", options: options);

        Assert.NotNull(e.Message);
        Assert.False(char.IsHighSurrogate(e.Message[^1]), "the message ends with a lone high surrogate");
        Assert.Equal(new string('x', 63), e.Message);
    }

    [Fact]
    public void Frames_over_the_limit_keep_the_first_and_last_frames()
    {
        var options = new IngestOptions { MaxFrames = 4 };

        var e = Normalize(ExceptionWithFrames(10), options: options);

        Assert.Equal(["f0", "f1", "f8", "f9"], e.PrimaryException!.Frames.Select(f => f.Function));
    }

    [Fact]
    public void Frames_over_an_odd_limit_keep_more_frames_at_the_crash_site()
    {
        var options = new IngestOptions { MaxFrames = 5 };

        var e = Normalize(ExceptionWithFrames(10), options: options);

        Assert.Equal(["f0", "f1", "f7", "f8", "f9"], e.PrimaryException!.Frames.Select(f => f.Function));
    }

    [Fact]
    public void Frames_at_the_limit_are_all_kept()
    {
        var options = new IngestOptions { MaxFrames = 4 };

        var e = Normalize(ExceptionWithFrames(4), options: options);

        Assert.Equal(["f0", "f1", "f2", "f3"], e.PrimaryException!.Frames.Select(f => f.Function));
    }

    [Fact]
    public void Default_limit_keeps_fifty_frames()
    {
        var e = Normalize(ExceptionWithFrames(120));

        var frames = e.PrimaryException!.Frames;
        Assert.Equal(50, frames.Count);
        Assert.Equal("f0", frames[0].Function);
        Assert.Equal("f24", frames[24].Function);
        Assert.Equal("f95", frames[25].Function);
        Assert.Equal("f119", frames[^1].Function);
    }

    [Fact]
    public void A_normalised_event_serialises_to_json()
    {
        var e = Normalize("""
            {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "level": "warning", "message": "hi", "tags": {"a": 1},
             "exception": [{"type": "E", "stacktrace": {"frames": [{"function": "f", "lineno": 2}]}}]}
            """);

        using var json = JsonDocument.Parse(EventJson.Serialize(e));

        Assert.Equal("9ec79c33ec9942ab8353589fcb2e04dc", json.RootElement.GetProperty("event_id").GetString());
        Assert.Equal("warning", json.RootElement.GetProperty("level").GetString());
        Assert.Equal("1", json.RootElement.GetProperty("tags").GetProperty("a").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("exception")[0].GetProperty("frames")[0].GetProperty("lineno").GetInt32());
    }
}
