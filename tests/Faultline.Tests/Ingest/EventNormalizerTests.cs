using System.Text.Json;
using Faultline.Events;
using Faultline.Ingest;
using Faultline.Issues;

namespace Faultline.Tests.Ingest;

public class EventNormalizerTests
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

    [Fact]
    public void Breadcrumbs_are_accepted_as_a_values_object()
    {
        var e = Normalize("""{"breadcrumbs": {"values": [{"message": "one"}, {"message": "two"}]}}""");

        Assert.Equal(["one", "two"], e.Breadcrumbs.Select(b => b.Message));
    }

    [Fact]
    public void Legacy_breadcrumbs_interface_is_read()
    {
        var e = Normalize("""{"sentry.interfaces.Breadcrumbs": {"values": [{"category": "ui.click"}]}}""");

        Assert.Equal("ui.click", Assert.Single(e.Breadcrumbs).Category);
    }

    [Fact]
    public void Only_the_most_recent_breadcrumbs_are_kept()
    {
        var options = new IngestOptions { MaxBreadcrumbs = 3 };
        var crumbs = string.Join(",", Enumerable.Range(0, 5).Select(i => $$"""{"message": "b{{i}}"}"""));

        var e = Normalize($$"""{"breadcrumbs": [{{crumbs}}]}""", options: options);

        Assert.Equal(["b2", "b3", "b4"], e.Breadcrumbs.Select(b => b.Message));
    }

    [Fact]
    public void Tags_as_an_object_coerce_numbers_and_booleans_and_drop_null()
    {
        var e = Normalize("""{"tags": {"browser": "Firefox", "retries": 3, "ratio": 1.5, "beta": true, "paid": false, "region": null}}""");

        Assert.Equal(new Dictionary<string, string>
        {
            ["browser"] = "Firefox",
            ["retries"] = "3",
            ["ratio"] = "1.5",
            ["beta"] = "true",
            ["paid"] = "false",
        }, e.Tags);
    }

    [Fact]
    public void Tags_as_pairs_coerce_numbers_and_booleans_and_drop_null()
    {
        var e = Normalize("""{"tags": [["server_name", "web-1"], ["port", 8080], ["debug", true], ["region", null]]}""");

        Assert.Equal(new Dictionary<string, string>
        {
            ["server_name"] = "web-1",
            ["port"] = "8080",
            ["debug"] = "true",
        }, e.Tags);
    }

    [Fact]
    public void Tags_with_blank_keys_are_dropped_and_keys_are_trimmed()
    {
        var e = Normalize("""{"tags": {"  ": "x", " env ": "prod"}}""");

        Assert.Equal(new Dictionary<string, string> { ["env"] = "prod" }, e.Tags);
    }

    [Fact]
    public void Tags_beyond_the_limit_are_dropped()
    {
        var e = Normalize("""{"tags": {"a": "1", "b": "2", "c": "3"}}""", options: new IngestOptions { MaxTags = 2 });

        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, e.Tags);
    }

    [Fact]
    public void Message_as_a_string_has_no_template()
    {
        var e = Normalize("""{"message": "Payment declined"}""");

        Assert.Equal("Payment declined", e.Message);
        Assert.Null(e.MessageTemplate);
    }

    [Fact]
    public void Logentry_with_percent_params_is_formatted_and_keeps_its_template()
    {
        var e = Normalize("""{"logentry": {"message": "User %s failed to log in %d times", "params": ["bob", 3]}}""");

        Assert.Equal("User bob failed to log in 3 times", e.Message);
        Assert.Equal("User %s failed to log in %d times", e.MessageTemplate);
    }

    [Fact]
    public void Logentry_with_numbered_params_is_formatted()
    {
        var e = Normalize("""{"logentry": {"message": "Order {0} for {1} failed", "params": [17, "alice"]}}""");

        Assert.Equal("Order 17 for alice failed", e.Message);
        Assert.Equal("Order {0} for {1} failed", e.MessageTemplate);
    }

    [Fact]
    public void Logentry_with_fewer_params_than_placeholders_leaves_the_rest()
    {
        var e = Normalize("""{"logentry": {"message": "%s and %s", "params": ["one"]}}""");

        Assert.Equal("one and %s", e.Message);
    }

    [Fact]
    public void Logentry_formatted_wins_over_formatting_the_template()
    {
        var e = Normalize("""{"logentry": {"message": "User %s", "params": ["x"], "formatted": "User bob (id 4)"}}""");

        Assert.Equal("User bob (id 4)", e.Message);
        Assert.Equal("User %s", e.MessageTemplate);
    }

    [Fact]
    public void Logentry_with_only_formatted_has_no_template()
    {
        var e = Normalize("""{"logentry": {"formatted": "Cache miss for key 12"}}""");

        Assert.Equal("Cache miss for key 12", e.Message);
        Assert.Null(e.MessageTemplate);
    }

    [Fact]
    public void Logentry_without_params_uses_the_message_and_no_template()
    {
        var e = Normalize("""{"logentry": {"message": "Param is null!"}}""");

        Assert.Equal("Param is null!", e.Message);
        Assert.Null(e.MessageTemplate);
    }

    [Fact]
    public void Logentry_wins_over_the_message_field()
    {
        var e = Normalize("""{"message": "old", "logentry": {"formatted": "new"}}""");

        Assert.Equal("new", e.Message);
    }

    [Fact]
    public void Message_as_an_object_is_read_like_logentry()
    {
        var e = Normalize("""{"message": {"message": "Hello %s", "params": ["world"]}}""");

        Assert.Equal("Hello world", e.Message);
        Assert.Equal("Hello %s", e.MessageTemplate);
    }

    [Fact]
    public void Transaction_wins_over_culprit()
    {
        var both = Normalize("""{"transaction": "/checkout", "culprit": "app.views in checkout"}""");
        var culpritOnly = Normalize("""{"culprit": "app.views in checkout"}""");

        Assert.Equal("/checkout", both.Culprit);
        Assert.Equal("app.views in checkout", culpritOnly.Culprit);
    }

    [Fact]
    public void Legacy_exception_interface_is_read()
    {
        var e = Normalize("""
            {"sentry.interfaces.Exception": {"values": [{"type": "ZeroDivisionError", "value": "divided by 0",
                "stacktrace": {"frames": [{"filename": "bin/raven", "lineno": 36}]}}]}}
            """);

        var exception = Assert.Single(e.Exceptions);
        Assert.Equal("ZeroDivisionError", exception.Type);
        Assert.Equal("divided by 0", exception.Value);
        Assert.Equal(36, Assert.Single(exception.Frames).Lineno);
    }

    [Fact]
    public void Modern_exception_wins_over_the_legacy_interface()
    {
        var e = Normalize("""
            {"exception": [{"type": "Modern"}], "sentry.interfaces.Exception": {"values": [{"type": "Legacy"}]}}
            """);

        Assert.Equal("Modern", Assert.Single(e.Exceptions).Type);
    }

    [Fact]
    public void Legacy_message_interface_is_read()
    {
        var e = Normalize("""{"sentry.interfaces.Message": {"message": "Authentication failed, token %s", "params": ["expired"]}}""");

        Assert.Equal("Authentication failed, token expired", e.Message);
        Assert.Equal("Authentication failed, token %s", e.MessageTemplate);
    }

    [Fact]
    public void Legacy_user_interface_is_read()
    {
        var e = Normalize("""{"sentry.interfaces.User": {"id": 42, "email": "a@example.com", "username": "ann", "ip_address": "10.0.0.1"}}""");

        Assert.Equal(new UserInfo { Id = "42", Email = "a@example.com", Username = "ann", IpAddress = "10.0.0.1" }, e.User);
    }

    [Fact]
    public void A_user_without_known_fields_is_left_out()
    {
        var e = Normalize("""{"user": {"geo": {"city": "Oslo"}}}""");

        Assert.Null(e.User);
    }

    [Fact]
    public void Legacy_http_interface_is_kept_as_the_request()
    {
        var e = Normalize("""{"sentry.interfaces.Http": {"url": "https://example.com/a", "method": "POST"}}""");

        Assert.Equal("POST", e.Request!.Value.GetProperty("method").GetString());
    }

    [Fact]
    public void Short_fields_sdk_and_fingerprint_are_read()
    {
        var e = Normalize("""
            {"logger": "app.db", "platform": "python", "release": 123, "dist": "b7", "environment": "prod", "server_name": "web-1",
             "sdk": {"name": "sentry.python", "version": "2.1.0"}, "fingerprint": ["{{ default }}", "db", 5, null, {"x": 1}]}
            """);

        Assert.Equal("app.db", e.Logger);
        Assert.Equal("python", e.Platform);
        Assert.Equal("123", e.Release);
        Assert.Equal("b7", e.Dist);
        Assert.Equal("prod", e.Environment);
        Assert.Equal("web-1", e.ServerName);
        Assert.Equal(new SdkInfo { Name = "sentry.python", Version = "2.1.0" }, e.Sdk);
        Assert.Equal(["{{ default }}", "db", "5"], e.Fingerprint!);
    }

    [Fact]
    public void Extra_and_contexts_are_kept_as_sent()
    {
        var e = Normalize("""{"extra": {"cart": [1, 2], "vip": true}, "contexts": {"os": {"name": "Linux"}}}""");

        Assert.Equal("""{"cart": [1, 2], "vip": true}""", e.Extra!.Value.GetRawText());
        Assert.Equal("Linux", e.Contexts!.Value.GetProperty("os").GetProperty("name").GetString());
    }

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

    // Sentry's own sample payloads (copied from ../shared/fixtures/sentry-samples).

    private static string SamplePath(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "sentry-samples", file);

    private static FaultlineEvent NormalizeSample(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(SamplePath(file)));
        return new EventNormalizer(new IngestOptions(), strict: false).Normalize(document.RootElement, "event", ReceivedAt);
    }

    public static TheoryData<string> SampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "sentry-samples"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Fact]
    public void All_sentry_samples_are_copied_into_the_test_output()
    {
        Assert.Equal(21, SampleFiles().Count);
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void Every_sentry_sample_normalises_leniently_with_a_title(string file)
    {
        var e = NormalizeSample(file);

        Assert.False(string.IsNullOrWhiteSpace(IssueSummary.Title(e)));
    }

    // The expected title and primary frame count of each sample, read off the JSON by hand. The
    // primary exception is the last non-empty entry; frames are capped at the default 50.
    [Theory]
    [InlineData("android-ndk.json", "SIGSEGV: Segfault", 36)]
    [InlineData("android.json", "Exception: Some exception.", 11)]
    [InlineData("cocoa.json", "NSRangeException: *** -[__NSArray0 objectAtIndex:]: index 3 beyond bounds for empty NSArray", 31)]
    [InlineData("cordova.json", "Error: Sentry Initialized", 2)]
    [InlineData("elixir.json", "exit: ** (exit) :badarith", 6)]
    [InlineData("exception-with-address-instruction.json",
        "The operation couldn’t be completed. (ServiceKit.ClientTask.Result.ResultError error 1.): The operation couldn’t be completed. (ServiceKit.ClientTask.Result.ResultError error 1.)", 4)]
    [InlineData("exceptions-and-no-threads.json",
        "ActionView::Template::Error: undefined local variable or method `foo' for #<#<Class:0x00007fcbabaf0b30>:0x00007fcbabaea7a8>", 0)]
    [InlineData("java.json", "ApiException: Authentication failed, token expired!", 50)]
    [InlineData("javascript.json", "TypeError: Object [object Object] has no method 'updateFrom'", 4)]
    [InlineData("native.json", "thread_demo: Failing!", 13)]
    [InlineData("php.json", "Exception: This is a test exception sent from the Raven CLI.", 4)]
    [InlineData("pii.json", "RuntimeError: Invalid device: A949AE01EBB07300D62AE0178F0944DD21F8C98C", 4)]
    [InlineData("python-modern.json", "Exception: This is an example Python exception", 2)]
    [InlineData("ruby.json", "ZeroDivisionError: divided by 0", 3)]
    [InlineData("unity.json", "DivideByZeroException: Attempted to divide by zero.", 9)]
    // invalid-interfaces.json: the last exception entry has only a type (and two empty frames).
    [InlineData("invalid-interfaces.json", "ValueError", 2)]
    public void Sentry_sample_with_an_exception_is_titled_by_it(string file, string title, int frames)
    {
        var e = NormalizeSample(file);

        Assert.Equal(title, IssueSummary.Title(e));
        Assert.Equal(frames, e.PrimaryException!.Frames.Count);
    }

    [Fact]
    public void Sentry_sample_with_a_long_exception_value_gets_a_truncated_title()
    {
        var e = NormalizeSample("python-invalid-json-error.json");

        var title = IssueSummary.Title(e);
        Assert.StartsWith("InvalidJsonError: invalid value: string \"($string || $number", title, StringComparison.Ordinal);
        Assert.EndsWith("…", title, StringComparison.Ordinal);
        Assert.Equal(14, e.PrimaryException!.Frames.Count);
    }

    [Fact]
    public void Sentry_aspnetcore_sample_is_titled_by_its_message_with_its_top_level_frames()
    {
        // It has no exception, only logentry/message and a top-level stacktrace.
        var e = NormalizeSample("aspnetcore.json");

        Assert.Equal("Param is null!", IssueSummary.Title(e));
        Assert.Equal("Samples.AspNetCore.Mvc.Controllers.HomeController in PostIndex", e.Culprit);
        Assert.Equal(50, e.PrimaryException!.Frames.Count);
        Assert.Null(e.PrimaryException.Type);
        Assert.Equal("Production", e.Tags["environment"]);
        Assert.Equal("e386dfd", e.Tags["sentry:release"]);
    }

    [Fact]
    public void Sentry_java_sample_reads_every_legacy_interface()
    {
        var e = NormalizeSample("java.json");

        Assert.Equal("Authentication failed, token expired!", e.Message);
        Assert.NotNull(e.User);
        Assert.NotNull(e.Request);
        Assert.NotEmpty(e.Breadcrumbs);
    }

    // These samples carry neither an exception type/value nor a message, so no title can be derived:
    // empty-exception.json has "exception": {"values": [null]}, empty-stacktrace.json a top-level
    // stacktrace with no frames, and python.json only a legacy Stacktrace and a Template interface.
    [Theory]
    [InlineData("empty-exception.json", 0)]
    [InlineData("empty-stacktrace.json", 0)]
    [InlineData("python.json", 5)]
    public void Sentry_sample_without_exception_or_message_is_unlabeled(string file, int frames)
    {
        var e = NormalizeSample(file);

        Assert.Equal("<unlabeled event>", IssueSummary.Title(e));
        Assert.Equal(frames, e.PrimaryException?.Frames.Count ?? 0);
    }
}
