using Faultline.Events;
using Faultline.Issues;

namespace Faultline.Tests.Issues;

public class FingerprinterTests
{
    private const string OrderError = "System.InvalidOperationException";

    [Fact]
    public void Same_exception_from_same_call_site_with_different_line_numbers_groups_together()
    {
        var first = Event(Exception(OrderError, "Order 17 not found",
            App("MyApp.Api", "Post", 12), App("MyApp.Orders", "PlaceOrder", 40)));
        var second = Event(Exception(OrderError, "Order 99 not found",
            App("MyApp.Api", "Post", 15) with { Colno = 8 }, App("MyApp.Orders", "PlaceOrder", 57)));

        Assert.Matches("^[0-9a-f]{32}$", Fingerprinter.Compute(first));
        Assert.Equal(Fingerprinter.Compute(first), Fingerprinter.Compute(second));
        Assert.Equal(
            ["exception-type:" + OrderError, "frame:MyApp.Api|Post", "frame:MyApp.Orders|PlaceOrder"],
            Fingerprinter.Components(first));
    }

    [Fact]
    public void Different_in_app_function_produces_a_different_key()
    {
        var placeOrder = Event(Exception(OrderError, "Boom", App("MyApp.Orders", "PlaceOrder", 40)));
        var cancelOrder = Event(Exception(OrderError, "Boom", App("MyApp.Orders", "CancelOrder", 40)));

        Assert.NotEqual(Fingerprinter.Compute(placeOrder), Fingerprinter.Compute(cancelOrder));
    }

    [Fact]
    public void Different_exception_type_at_the_same_call_site_produces_a_different_key()
    {
        var invalid = Event(Exception(OrderError, "Boom", App("MyApp.Orders", "PlaceOrder", 40)));
        var timeout = Event(Exception("System.TimeoutException", "Boom", App("MyApp.Orders", "PlaceOrder", 40)));

        Assert.NotEqual(Fingerprinter.Compute(invalid), Fingerprinter.Compute(timeout));
    }

    [Fact]
    public void System_frames_are_ignored_when_in_app_frames_exist()
    {
        var onKestrel = Event(Exception(OrderError, "Boom",
            Frame("Microsoft.AspNetCore.Server.Kestrel", "ProcessRequests", null, inApp: false),
            App("MyApp.Orders", "PlaceOrder", 40),
            Frame("System.Linq.Enumerable", "First", null, inApp: false)));
        var onIis = Event(Exception(OrderError, "Boom",
            Frame("Microsoft.AspNetCore.Server.IIS", "HandleRequest", null, inApp: false),
            App("MyApp.Orders", "PlaceOrder", 41),
            Frame("System.Linq.Enumerable", "Single", null, inApp: null)));

        Assert.Equal(Fingerprinter.Compute(onKestrel), Fingerprinter.Compute(onIis));
        Assert.Equal(["exception-type:" + OrderError, "frame:MyApp.Orders|PlaceOrder"], Fingerprinter.Components(onKestrel));
    }

    [Fact]
    public void All_frames_count_when_no_frame_is_in_app()
    {
        var first = Event(Exception(OrderError, "Boom", Frame("Lib.A", "Run", 1, inApp: null), Frame("Lib.B", "Step", 2, inApp: false)));
        var second = Event(Exception(OrderError, "Boom", Frame("Lib.A", "Run", 1, inApp: null), Frame("Lib.C", "Step", 2, inApp: false)));

        Assert.Equal(["exception-type:" + OrderError, "frame:Lib.A|Run", "frame:Lib.B|Step"], Fingerprinter.Components(first));
        Assert.NotEqual(Fingerprinter.Compute(first), Fingerprinter.Compute(second));
    }

    [Fact]
    public void Custom_fingerprint_replaces_the_default_grouping()
    {
        var first = Event(Exception(OrderError, "Boom", App("MyApp.Orders", "PlaceOrder", 40))) with { Fingerprint = ["gateway-down"] };
        var second = Event(Exception("HttpRequestException", "502", App("MyApp.Pay", "Charge", 9))) with { Fingerprint = ["gateway-down"] };

        Assert.Equal(["fingerprint:gateway-down"], Fingerprinter.Components(first));
        Assert.Equal(Fingerprinter.Compute(first), Fingerprinter.Compute(second));
    }

    [Fact]
    public void Default_variable_in_fingerprint_extends_the_default_grouping()
    {
        var plain = Event(Exception(OrderError, "Boom", App("MyApp.Orders", "PlaceOrder", 40)));
        var tenantA = plain with { Fingerprint = ["{{ default }}", "tenant-a"] };
        var tenantASpelledTight = plain with { Fingerprint = ["{{default}}", "tenant-a"] };
        var tenantB = plain with { Fingerprint = ["{{ default }}", "tenant-b"] };

        Assert.Equal(
            ["exception-type:" + OrderError, "frame:MyApp.Orders|PlaceOrder", "fingerprint:tenant-a"],
            Fingerprinter.Components(tenantA));
        Assert.Equal(Fingerprinter.Compute(tenantA), Fingerprinter.Compute(tenantASpelledTight));
        Assert.NotEqual(Fingerprinter.Compute(plain), Fingerprinter.Compute(tenantA));
        Assert.NotEqual(Fingerprinter.Compute(tenantA), Fingerprinter.Compute(tenantB));
    }

    [Fact]
    public void Fingerprint_text_never_collides_with_a_message_or_with_text_shifted_between_parts()
    {
        var byMessage = Event() with { Message = "boom" };
        var byFingerprint = Event() with { Fingerprint = ["message:boom"] };
        var split = Event() with { Fingerprint = ["a", "fingerprint:b"] };
        var shifted = Event() with { Fingerprint = ["afingerprint:", "b"] };

        Assert.NotEqual(Fingerprinter.Compute(byMessage), Fingerprinter.Compute(byFingerprint));
        Assert.NotEqual(Fingerprinter.Compute(split), Fingerprinter.Compute(shifted));
    }

    [Fact]
    public void Message_only_events_with_different_numbers_and_uuids_group_together()
    {
        var first = Event() with { Message = "Timeout after 3000 ms for order 4f9c2e1a-3b7d-4c1e-9a2f-0e8d7c6b5a41" };
        var second = Event() with { Message = "Timeout after 2500 ms for order 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" };

        Assert.Equal(["message:Timeout after <int> ms for order <uuid>"], Fingerprinter.Components(first));
        Assert.Equal(Fingerprinter.Compute(first), Fingerprinter.Compute(second));
    }

    [Fact]
    public void Message_only_events_with_different_text_get_different_keys()
    {
        var timeout = Event() with { Message = "Timeout talking to the payment gateway" };
        var refused = Event() with { Message = "Connection refused by the payment gateway" };

        Assert.NotEqual(Fingerprinter.Compute(timeout), Fingerprinter.Compute(refused));
    }

    [Fact]
    public void Message_template_is_preferred_over_the_formatted_message()
    {
        var first = Event() with { Message = "Order ABC failed", MessageTemplate = "Order {OrderId} failed" };
        var second = Event() with { Message = "Order XYZ failed", MessageTemplate = "Order {OrderId} failed" };

        Assert.Equal(["message:Order {OrderId} failed"], Fingerprinter.Components(first));
        Assert.Equal(Fingerprinter.Compute(first), Fingerprinter.Compute(second));
    }

    [Fact]
    public void Empty_exception_list_with_message_groups_by_the_message()
    {
        var e = Event() with { Exceptions = [], Message = "Disk full on 10.0.0.7" };

        Assert.Equal(["message:Disk full on <ip>"], Fingerprinter.Components(e));
    }

    [Fact]
    public void Synthetic_mechanism_ignores_the_exception_type()
    {
        var synthetic = new MechanismInfo { Type = "signalhandler", Synthetic = true };
        var segfault = Event(Exception("SIGSEGV", null, App("app", "render", 3)) with { Mechanism = synthetic });
        var abort = Event(Exception("SIGABRT", null, App("app", "render", 3)) with { Mechanism = synthetic });

        Assert.Equal(["frame:app|render"], Fingerprinter.Components(segfault));
        Assert.Equal(Fingerprinter.Compute(segfault), Fingerprinter.Compute(abort));
    }

    [Fact]
    public void Exception_value_counts_only_when_no_frame_contributes()
    {
        var withFrames = Event(Exception(OrderError, "Order 17 not found", App("MyApp.Orders", "PlaceOrder", 40)));
        var withFramesOtherValue = Event(Exception(OrderError, "Stock exhausted", App("MyApp.Orders", "PlaceOrder", 40)));
        var noFrames = Event(Exception(OrderError, "Order 17 not found"));
        var noFramesOtherId = Event(Exception(OrderError, "Order 99 not found"));
        var noFramesOtherText = Event(Exception(OrderError, "Stock exhausted"));

        Assert.Equal(Fingerprinter.Compute(withFrames), Fingerprinter.Compute(withFramesOtherValue));
        Assert.Equal(["exception-type:" + OrderError, "exception-value:Order <int> not found"], Fingerprinter.Components(noFrames));
        Assert.Equal(Fingerprinter.Compute(noFrames), Fingerprinter.Compute(noFramesOtherId));
        Assert.NotEqual(Fingerprinter.Compute(noFrames), Fingerprinter.Compute(noFramesOtherText));
    }

    [Fact]
    public void Dotnet_frames_without_file_or_line_group_by_module_and_function()
    {
        var e = Event(Exception(OrderError, "Boom",
            new StackFrame { Module = "MyApp.Orders.OrderService", Function = "PlaceOrder", InApp = true },
            new StackFrame { Module = "MyApp.Orders.Inventory", Function = "Reserve", InApp = true }));

        Assert.Equal(
            ["exception-type:" + OrderError, "frame:MyApp.Orders.OrderService|PlaceOrder", "frame:MyApp.Orders.Inventory|Reserve"],
            Fingerprinter.Components(e));
    }

    [Fact]
    public void Async_state_machine_frames_group_with_the_method_they_implement()
    {
        var sync = Event(Exception(OrderError, "Boom", App("MyApp.Orders.OrderService", "PlaceOrder", 40)));
        var stateMachineType = Event(Exception(OrderError, "Boom", App("MyApp.Orders.OrderService+<PlaceOrder>d__5", "MoveNext", 41)));
        var stateMachineFunction = Event(Exception(OrderError, "Boom", App("MyApp.Orders.OrderService", "<PlaceOrder>d__12.MoveNext", 41)));

        Assert.Equal(Fingerprinter.Compute(sync), Fingerprinter.Compute(stateMachineType));
        Assert.Equal(Fingerprinter.Compute(sync), Fingerprinter.Compute(stateMachineFunction));
    }

    [Fact]
    public void Closure_ordinals_do_not_split_groups()
    {
        var before = Event(Exception(OrderError, "Boom", App("MyApp.Orders+<>c__DisplayClass5_0", "<PlaceOrder>b__0", 9)));
        var after = Event(Exception(OrderError, "Boom", App("MyApp.Orders+<>c__DisplayClass7_1", "<PlaceOrder>b__2", 9)));

        Assert.Equal("frame:MyApp.Orders+<>c__DisplayClass|<PlaceOrder>b__", Fingerprinter.Components(before)[1]);
        Assert.Equal(Fingerprinter.Compute(before), Fingerprinter.Compute(after));
    }

    [Fact]
    public void Recursive_frames_are_collapsed()
    {
        var shallow = Event(Exception(OrderError, "Boom",
            App("MyApp.Tree", "Walk", 5), App("MyApp.Tree", "Visit", 9)));
        var deep = Event(Exception(OrderError, "Boom",
            App("MyApp.Tree", "Walk", 5), App("MyApp.Tree", "Walk", 7),
            App("MyApp.Tree", "Walk", 7), App("MyApp.Tree", "Visit", 9)));

        Assert.Equal(Fingerprinter.Compute(shallow), Fingerprinter.Compute(deep));
    }

    [Fact]
    public void Javascript_filenames_lose_origin_query_and_build_hash()
    {
        var cdn = Event(Exception("TypeError", "x is undefined",
            new StackFrame { AbsPath = "https://cdn.example.com/static/app.3f9a2c1b.js?v=2#x", Function = "handleClick", Lineno = 1, Colno = 9912, InApp = true }));
        var local = Event(Exception("TypeError", "x is undefined",
            new StackFrame { AbsPath = "http://localhost:3000/static/app.77aa12ef.js", Function = "handleClick", Lineno = 1, Colno = 377, InApp = true }));

        Assert.Equal(["exception-type:TypeError", "frame:/static/app.<hash>.js|handleClick"], Fingerprinter.Components(cdn));
        Assert.Equal(Fingerprinter.Compute(cdn), Fingerprinter.Compute(local));
    }

    [Theory]
    [InlineData("https://cdn.example.com/assets/index-Bx1L2k9Q.js", "/assets/index-<hash>.js")]
    [InlineData("/static/js/main.a1b2c3d4.chunk.js", "/static/js/main.<hash>.chunk.js")]
    [InlineData("webpack:///./src/cart.js", "/./src/cart.js")]
    [InlineData("https://example.com", null)]
    [InlineData("vendor/jquery-3.6.0.min.js", "vendor/jquery-3.6.0.min.js")]
    [InlineData(@"C:\build\src\cart.js", "C:/build/src/cart.js")]
    public void Filenames_are_normalised_before_they_count(string filename, string? expected)
    {
        var e = Event(Exception("TypeError", "boom", new StackFrame { Filename = filename, Function = "addItem", InApp = true }));

        Assert.Equal($"frame:{expected}|addItem", Fingerprinter.Components(e)[1]);
    }

    [Fact]
    public void Javascript_anonymous_functions_count_as_no_function()
    {
        var anonymous = Event(Exception("TypeError", "x is undefined", new StackFrame { Filename = "src/cart.js", Function = "<anonymous>", InApp = true }));
        var questionMark = Event(Exception("TypeError", "x is undefined", new StackFrame { Filename = "src/cart.js", Function = "?", InApp = true }));

        Assert.Equal(["exception-type:TypeError", "frame:src/cart.js|"], Fingerprinter.Components(anonymous));
        Assert.Equal(Fingerprinter.Compute(anonymous), Fingerprinter.Compute(questionMark));
    }

    [Fact]
    public void Frames_with_neither_location_nor_function_contribute_nothing()
    {
        var e = Event(Exception("Error", "Out of memory", new StackFrame { Lineno = 3, InstructionAddr = "0x1000a", InApp = true }));

        Assert.Equal(["exception-type:Error", "exception-value:Out of memory"], Fingerprinter.Components(e));
    }

    [Fact]
    public void Every_exception_in_the_chain_contributes_in_order()
    {
        var e = Event(
            Exception("System.IO.IOException", "disk", App("MyApp.Storage", "Write", 3)),
            Exception(OrderError, "wrapped", App("MyApp.Orders", "PlaceOrder", 40)));

        Assert.Equal(
            ["exception-type:System.IO.IOException", "frame:MyApp.Storage|Write", "exception-type:" + OrderError, "frame:MyApp.Orders|PlaceOrder"],
            Fingerprinter.Components(e));
    }

    [Fact]
    public void Event_with_nothing_gets_a_stable_key()
    {
        var first = Event();
        var second = Event() with { Level = EventLevel.Warning, Logger = "other" };

        Assert.Empty(Fingerprinter.Components(first));
        // SHA-256 of no input, first 16 bytes.
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb924", Fingerprinter.Compute(first));
        Assert.Equal(Fingerprinter.Compute(first), Fingerprinter.Compute(second));
    }

    [Fact]
    public void Anonymous_functions_in_one_file_are_told_apart_by_their_source_line()
    {
        static FaultlineEvent FromLine(string line, int lineno) => Event(Exception("Error", "boom",
            new StackFrame { Module = "send", Function = "?", Lineno = lineno, InApp = true, ContextLine = line }));

        var first = FromLine("  Sentry.captureMessage('queue is backing up');", 10);
        var sameLineElsewhere = FromLine("Sentry.captureMessage('queue   is backing up');", 99);
        var other = FromLine("  scope => Sentry.captureMessage('scoped event');", 20);

        Assert.Equal(Fingerprinter.Compute(first), Fingerprinter.Compute(sameLineElsewhere));
        Assert.NotEqual(Fingerprinter.Compute(first), Fingerprinter.Compute(other));
    }

    private static FaultlineEvent Event(params ExceptionInfo[] exceptions) => new()
    {
        EventId = Guid.NewGuid(),
        Timestamp = DateTimeOffset.UnixEpoch.AddSeconds(Random.Shared.Next()),
        Exceptions = exceptions,
    };

    private static ExceptionInfo Exception(string type, string? value, params StackFrame[] frames) =>
        new() { Type = type, Value = value, Frames = frames };

    private static StackFrame App(string module, string function, int? line) => Frame(module, function, line, inApp: true);

    private static StackFrame Frame(string module, string function, int? line, bool? inApp) =>
        new() { Module = module, Function = function, Lineno = line, InApp = inApp };
}
