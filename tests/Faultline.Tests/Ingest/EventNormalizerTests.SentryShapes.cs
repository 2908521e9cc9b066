using Faultline.Events;

namespace Faultline.Tests.Ingest;

public partial class EventNormalizerTests
{
    // Sentry shape variants.

    [Fact]
    public void A_valid_event_id_is_kept_in_hex_or_uuid_form()
    {
        var hex = Normalize("""{"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"}""");
        var uuid = Normalize("""{"event_id": "9ec79c33-ec99-42ab-8353-589fcb2e04dc"}""");

        Assert.Equal(Guid.Parse("9ec79c33-ec99-42ab-8353-589fcb2e04dc"), hex.EventId);
        Assert.Equal(hex.EventId, uuid.EventId);
    }

    [Fact]
    public void A_missing_event_id_gets_a_fresh_one()
    {
        var first = Normalize("{}");
        var second = Normalize("{}");

        Assert.NotEqual(first.EventId, second.EventId);
        Assert.Equal(7, first.EventId.Version);
    }

    [Fact]
    public void A_missing_timestamp_and_level_default_to_received_time_and_error()
    {
        var e = Normalize("{}");

        Assert.Equal(ReceivedAt, e.Timestamp);
        Assert.Equal(EventLevel.Error, e.Level);
        Assert.Empty(e.Exceptions);
        Assert.Empty(e.Breadcrumbs);
        Assert.Empty(e.Tags);
        Assert.Null(e.Message);
    }

    [Theory]
    [InlineData("\"2026-11-25T10:30:00Z\"")]
    [InlineData("\"2026-11-25T12:30:00+02:00\"")]
    [InlineData("\"2026-11-25T10:30:00\"")]
    [InlineData("1795602600")]
    [InlineData("1795602600.0")]
    public void Timestamp_is_read_from_rfc_3339_strings_and_epoch_seconds(string timestamp)
    {
        var e = Normalize($$"""{"timestamp": {{timestamp}}}""");

        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 30, 0, TimeSpan.Zero), e.Timestamp);
    }

    [Fact]
    public void Timestamp_keeps_the_fraction_of_float_epoch_seconds()
    {
        var e = Normalize("""{"timestamp": 1795602600.25}""");

        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 30, 0, 250, TimeSpan.Zero), e.Timestamp);
    }

    [Fact]
    public void Timestamp_keeps_the_milliseconds_of_an_rfc_3339_string()
    {
        var e = Normalize("""{"timestamp": "2026-11-25T10:30:00.123Z"}""");

        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 30, 0, 123, TimeSpan.Zero), e.Timestamp);
    }

    [Fact]
    public void A_timestamp_far_in_the_future_is_clamped_to_the_received_time()
    {
        var e = Normalize("""{"timestamp": "2026-11-25T12:02:00Z"}""");

        Assert.Equal(ReceivedAt, e.Timestamp);
    }

    [Fact]
    public void A_timestamp_slightly_in_the_future_is_kept_as_clock_skew()
    {
        var e = Normalize("""{"timestamp": "2026-11-25T12:00:30Z"}""");

        Assert.Equal(ReceivedAt.AddSeconds(30), e.Timestamp);
    }

    [Theory]
    [InlineData("fatal", EventLevel.Fatal)]
    [InlineData("error", EventLevel.Error)]
    [InlineData("warning", EventLevel.Warning)]
    [InlineData("warn", EventLevel.Warning)]
    [InlineData("info", EventLevel.Info)]
    [InlineData("debug", EventLevel.Debug)]
    [InlineData("FATAL", EventLevel.Fatal)]
    public void Level_names_and_aliases_are_recognised(string level, EventLevel expected)
    {
        Assert.Equal(expected, Normalize($$"""{"level": "{{level}}"}""").Level);
    }

    [Fact]
    public void Exception_is_accepted_as_a_bare_list()
    {
        var e = Normalize("""
            {"exception": [
                {"type": "IOException", "value": "disk full"},
                {"type": "InvalidOperationException", "value": "save failed", "module": "App"}
            ]}
            """);

        Assert.Equal(["IOException", "InvalidOperationException"], e.Exceptions.Select(x => x.Type));
        Assert.Equal("save failed", e.PrimaryException?.Value);
        Assert.Equal("App", e.PrimaryException?.Module);
    }

    [Fact]
    public void Exception_is_accepted_as_a_values_object()
    {
        var e = Normalize("""
            {"exception": {"values": [
                {"type": "ValueError", "value": "bad", "mechanism": {"type": "generic", "handled": false, "synthetic": true},
                 "stacktrace": {"frames": [{"filename": "a.py", "function": "main", "lineno": 3, "in_app": true}]}}
            ]}}
            """);

        var exception = Assert.Single(e.Exceptions);
        Assert.Equal("ValueError", exception.Type);
        Assert.Equal("bad", exception.Value);
        Assert.Equal(new MechanismInfo { Type = "generic", Handled = false, Synthetic = true }, exception.Mechanism);
        var frame = Assert.Single(exception.Frames);
        Assert.Equal("a.py", frame.Filename);
        Assert.Equal("main", frame.Function);
        Assert.Equal(3, frame.Lineno);
        Assert.True(frame.InApp);
    }

    [Fact]
    public void Empty_exception_entries_are_left_out()
    {
        var e = Normalize("""{"exception": {"values": [{}, {"type": "", "value": ""}, {"type": "KeyError"}]}}""", strict: false);

        Assert.Equal("KeyError", Assert.Single(e.Exceptions).Type);
    }

    [Fact]
    public void A_top_level_stacktrace_becomes_an_exception_without_type()
    {
        var e = Normalize("""
            {"message": "m", "stacktrace": {"frames": [{"function": "a"}, {"function": "b"}]}}
            """);

        var exception = Assert.Single(e.Exceptions);
        Assert.Null(exception.Type);
        Assert.Equal(["a", "b"], exception.Frames.Select(f => f.Function));
    }

    [Fact]
    public void Raw_function_is_used_when_function_is_missing()
    {
        var e = Normalize("""{"exception": [{"type": "E", "stacktrace": {"frames": [{"raw_function": " 0x0 + 0"}]}}]}""");

        Assert.Equal(" 0x0 + 0", Assert.Single(e.PrimaryException!.Frames).Function);
    }

    [Fact]
    public void Dotnet_frames_without_file_and_line_are_kept()
    {
        var e = Normalize("""
            {"platform": "csharp", "exception": {"values": [{"type": "System.NullReferenceException", "value": "Object reference not set",
                "module": "System.Private.CoreLib",
                "stacktrace": {"frames": [
                    {"function": "Main", "module": "App.Program", "in_app": true, "package": "App, Version=1.0.0.0", "instruction_addr": "0x1a"},
                    {"function": "Save", "module": "App.OrderService", "in_app": true}
                ]}}]}}
            """);

        var frames = e.PrimaryException!.Frames;
        Assert.Equal(2, frames.Count);
        Assert.All(frames, f => Assert.Null(f.Filename));
        Assert.All(frames, f => Assert.Null(f.AbsPath));
        Assert.All(frames, f => Assert.Null(f.Lineno));
        Assert.Equal("App.OrderService", frames[1].Module);
        Assert.Equal("Save", frames[1].Function);
        Assert.Equal("App, Version=1.0.0.0", frames[0].Package);
        Assert.Equal("0x1a", frames[0].InstructionAddr);
        Assert.Equal("csharp", e.Platform);
    }

    [Fact]
    public void Frame_context_lines_are_kept()
    {
        var e = Normalize("""
            {"exception": [{"type": "E", "stacktrace": {"frames": [
                {"function": "f", "context_line": "x = 1 / 0", "pre_context": ["a", "b"], "post_context": ["c"]}
            ]}}]}
            """);

        var frame = Assert.Single(e.PrimaryException!.Frames);
        Assert.Equal("x = 1 / 0", frame.ContextLine);
        Assert.Equal(["a", "b"], frame.PreContext!);
        Assert.Equal(["c"], frame.PostContext!);
    }

    [Fact]
    public void Long_pre_context_keeps_the_five_lines_closest_to_the_crash()
    {
        var e = Normalize("""
            {"exception": [{"type": "E", "stacktrace": {"frames": [
                {"function": "f", "pre_context": ["p1", "p2", "p3", "p4", "p5", "p6", "p7"]}
            ]}}]}
            """);

        Assert.Equal(["p3", "p4", "p5", "p6", "p7"], e.PrimaryException!.Frames[0].PreContext!);
    }

    [Fact]
    public void Long_post_context_keeps_the_five_lines_closest_to_the_crash()
    {
        // post_context lists the lines after the crash line in order, so the nearest ones come first.
        var e = Normalize("""
            {"exception": [{"type": "E", "stacktrace": {"frames": [
                {"function": "f", "post_context": ["n1", "n2", "n3", "n4", "n5", "n6", "n7"]}
            ]}}]}
            """);

        Assert.Equal(["n1", "n2", "n3", "n4", "n5"], e.PrimaryException!.Frames[0].PostContext!);
    }

    [Fact]
    public void Breadcrumbs_are_accepted_as_a_bare_list()
    {
        var e = Normalize("""
            {"breadcrumbs": [
                {"timestamp": 1795602600, "type": "http", "category": "xhr", "message": "GET /api", "level": "warning", "data": {"status": 500}},
                {"message": "clicked"}
            ]}
            """);

        Assert.Equal(2, e.Breadcrumbs.Count);
        var first = e.Breadcrumbs[0];
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 30, 0, TimeSpan.Zero), first.Timestamp);
        Assert.Equal("http", first.Type);
        Assert.Equal("xhr", first.Category);
        Assert.Equal("GET /api", first.Message);
        Assert.Equal(EventLevel.Warning, first.Level);
        Assert.Equal(500, first.Data!.Value.GetProperty("status").GetInt32());
        Assert.Null(e.Breadcrumbs[1].Timestamp);
        Assert.Null(e.Breadcrumbs[1].Level);
    }
}
