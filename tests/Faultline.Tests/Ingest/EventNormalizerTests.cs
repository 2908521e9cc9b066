using System.Text.Json;
using Faultline.Events;
using Faultline.Ingest;

namespace Faultline.Tests.Ingest;

public partial class EventNormalizerTests
{
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static FaultlineEvent Normalize(string json, bool strict = true, IngestOptions? options = null)
    {
        using var document = JsonDocument.Parse(json);
        return new EventNormalizer(options ?? new IngestOptions(), strict).Normalize(document.RootElement, "events[0]", ReceivedAt);
    }

    private static EventValidationException Rejected(string json) =>
        Assert.Throws<EventValidationException>(() => Normalize(json));

    private static string ExceptionWithFrames(int count) =>
        """{"exception": [{"type": "E", "stacktrace": {"frames": ["""
        + string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"function": "f{{i}}"}"""))
        + "]}}]}";

    // Strict (native) mode: a wrongly typed known field is rejected with its JSON path.

    [Fact]
    public void Strict_mode_rejects_a_level_that_is_an_object_with_its_path()
    {
        var error = Rejected("""{"level": {"name": "error"}}""");

        Assert.Equal("events[0].level", error.Field);
        Assert.Equal("expected a string", error.Reason);
    }

    [Fact]
    public void Strict_mode_rejects_an_unknown_level_and_names_it()
    {
        var error = Rejected("""{"level": "catastrophic"}""");

        Assert.Equal("events[0].level", error.Field);
        Assert.Contains("'catastrophic'", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Strict_mode_rejects_a_string_line_number_with_the_full_frame_path()
    {
        var error = Rejected("""
            {"exception": [{"type": "E", "stacktrace": {"frames": [
                {"function": "a", "lineno": 1},
                {"function": "b", "lineno": "ten"}
            ]}}]}
            """);

        Assert.Equal("events[0].exception[0].stacktrace.frames[1].lineno", error.Field);
        Assert.Equal("expected an integer", error.Reason);
    }

    [Fact]
    public void Strict_mode_reports_the_index_of_the_exception_inside_a_values_wrapper()
    {
        var error = Rejected("""
            {"exception": {"values": [
                {"type": "A"},
                {"type": "B", "stacktrace": {"frames": [{"in_app": "yes"}]}}
            ]}}
            """);

        Assert.Equal("events[0].exception[1].stacktrace.frames[0].in_app", error.Field);
    }

    [Fact]
    public void Strict_mode_rejects_an_exception_entry_that_is_not_an_object()
    {
        var error = Rejected("""{"exception": [{"type": "A"}, "boom"]}""");

        Assert.Equal("events[0].exception[1]", error.Field);
    }

    [Fact]
    public void Strict_mode_rejects_frames_that_are_not_a_list()
    {
        var error = Rejected("""{"exception": [{"type": "A", "stacktrace": {"frames": "none"}}]}""");

        Assert.Equal("events[0].exception[0].stacktrace.frames", error.Field);
    }

    [Fact]
    public void Strict_mode_rejects_an_event_id_that_is_not_hex()
    {
        var error = Rejected("""{"event_id": "not-an-event-id"}""");

        Assert.Equal("events[0].event_id", error.Field);
    }

    [Fact]
    public void Strict_mode_rejects_an_unparseable_timestamp()
    {
        var error = Rejected("""{"timestamp": "the day before yesterday"}""");

        Assert.Equal("events[0].timestamp", error.Field);
    }

    [Fact]
    public void Strict_mode_rejects_a_negative_epoch_timestamp()
    {
        var error = Rejected("""{"timestamp": -5}""");

        Assert.Equal("events[0].timestamp", error.Field);
    }

    [Theory]
    [InlineData("""{"tags": "a=b"}""", "events[0].tags")]
    [InlineData("""{"tags": [["a", "b"], ["lonely"]]}""", "events[0].tags")]
    [InlineData("""{"user": "bob"}""", "events[0].user")]
    [InlineData("""{"extra": [1, 2]}""", "events[0].extra")]
    [InlineData("""{"contexts": "os"}""", "events[0].contexts")]
    [InlineData("""{"fingerprint": "abc"}""", "events[0].fingerprint")]
    [InlineData("""{"breadcrumbs": [{"message": "ok"}, 7]}""", "events[0].breadcrumbs[1]")]
    [InlineData("""{"breadcrumbs": {"values": [{"timestamp": "never"}]}}""", "events[0].breadcrumbs[0].timestamp")]
    [InlineData("""{"breadcrumbs": {"values": "x"}}""", "events[0].breadcrumbs")]
    [InlineData("""{"message": ["a"]}""", "events[0].message")]
    [InlineData("""{"logentry": {"message": {"text": "a"}}}""", "events[0].logentry.message")]
    [InlineData("""{"release": {"v": 1}}""", "events[0].release")]
    [InlineData("""{"exception": [{"type": "A", "mechanism": {"handled": "no"}}]}""", "events[0].exception[0].mechanism.handled")]
    [InlineData("""{"exception": [{"type": "A", "stacktrace": {"frames": [{"pre_context": "x"}]}}]}""", "events[0].exception[0].stacktrace.frames[0].pre_context")]
    [InlineData("""{"exception": [{"type": "A", "stacktrace": {"frames": [{"colno": 1e12}]}}]}""", "events[0].exception[0].stacktrace.frames[0].colno")]
    public void Strict_mode_rejects_a_wrongly_typed_field_with_its_path(string json, string path)
    {
        Assert.Equal(path, Rejected(json).Field);
    }

    [Fact]
    public void An_event_that_is_not_an_object_is_rejected_in_both_modes()
    {
        using var document = JsonDocument.Parse("[1, 2]");

        var strict = Assert.Throws<EventValidationException>(() =>
            new EventNormalizer(new IngestOptions(), strict: true).Normalize(document.RootElement, "events[3]", ReceivedAt));
        var lenient = Assert.Throws<EventValidationException>(() =>
            new EventNormalizer(new IngestOptions(), strict: false).Normalize(document.RootElement, "events[3]", ReceivedAt));

        Assert.Equal("events[3]", strict.Field);
        Assert.Equal("events[3]", lenient.Field);
    }

    // Lenient (Sentry) mode: the same inputs drop the bad field and keep the rest.

    [Fact]
    public void Lenient_mode_drops_a_wrongly_typed_level_and_uses_error()
    {
        var e = Normalize("""{"level": {"name": "debug"}, "message": "kept"}""", strict: false);

        Assert.Equal(EventLevel.Error, e.Level);
        Assert.Equal("kept", e.Message);
    }

    [Fact]
    public void Lenient_mode_drops_an_unknown_level()
    {
        var e = Normalize("""{"level": "catastrophic"}""", strict: false);

        Assert.Equal(EventLevel.Error, e.Level);
    }

    [Fact]
    public void Lenient_mode_drops_a_bad_line_number_but_keeps_the_frame()
    {
        var e = Normalize("""
            {"exception": [{"type": "E", "stacktrace": {"frames": [
                {"function": "a", "lineno": 1},
                {"function": "b", "lineno": "ten", "colno": 4}
            ]}}]}
            """, strict: false);

        var frames = Assert.Single(e.Exceptions).Frames;
        Assert.Equal(2, frames.Count);
        Assert.Equal(1, frames[0].Lineno);
        Assert.Equal("b", frames[1].Function);
        Assert.Null(frames[1].Lineno);
        Assert.Equal(4, frames[1].Colno);
    }

    [Fact]
    public void Lenient_mode_replaces_a_bad_event_id_with_a_new_one()
    {
        var e = Normalize("""{"event_id": "not-an-event-id"}""", strict: false);

        Assert.NotEqual(Guid.Empty, e.EventId);
        Assert.Equal(7, e.EventId.Version);
    }

    [Fact]
    public void Lenient_mode_uses_the_received_time_for_a_bad_timestamp()
    {
        var e = Normalize("""{"timestamp": "the day before yesterday"}""", strict: false);

        Assert.Equal(ReceivedAt, e.Timestamp);
    }

    [Fact]
    public void Lenient_mode_skips_malformed_tag_pairs_and_keeps_good_ones()
    {
        var e = Normalize("""{"tags": [["a", "b"], ["lonely"], [1, "x"], "c"]}""", strict: false);

        Assert.Equal(new Dictionary<string, string> { ["a"] = "b" }, e.Tags);
    }

    [Fact]
    public void Lenient_mode_skips_non_object_entries_of_lists()
    {
        var e = Normalize("""
            {"exception": ["boom", {"type": "A"}],
             "breadcrumbs": [7, {"message": "m"}]}
            """, strict: false);

        Assert.Equal("A", Assert.Single(e.Exceptions).Type);
        Assert.Equal("m", Assert.Single(e.Breadcrumbs).Message);
    }

}
