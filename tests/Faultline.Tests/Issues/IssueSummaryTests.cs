using Faultline.Events;
using Faultline.Issues;

namespace Faultline.Tests.Issues;

public class IssueSummaryTests
{
    [Fact]
    public void Title_is_type_and_value_of_the_primary_exception()
    {
        var e = Event(
            new ExceptionInfo { Type = "System.IO.IOException", Value = "Disk full" },
            new ExceptionInfo { Type = "System.InvalidOperationException", Value = "Order 17 could not be saved" });

        Assert.Equal("System.InvalidOperationException: Order 17 could not be saved", IssueSummary.Title(e));
    }

    [Fact]
    public void Title_uses_only_the_first_line_of_the_value()
    {
        var e = Event(new ExceptionInfo { Type = "SqlException", Value = "\n  Deadlock victim \r\n   at line 3\nmore" });

        Assert.Equal("SqlException: Deadlock victim", IssueSummary.Title(e));
    }

    [Fact]
    public void Title_truncates_a_long_value()
    {
        var e = Event(new ExceptionInfo { Type = "Error", Value = new string('x', 500) });

        Assert.Equal("Error: " + new string('x', 200) + "…", IssueSummary.Title(e));
    }

    [Fact]
    public void Title_truncation_never_splits_a_surrogate_pair()
    {
        var e = Event(new ExceptionInfo { Type = "Error", Value = new string('x', 199) + "😀" + new string('y', 50) });

        Assert.Equal("Error: " + new string('x', 199) + "…", IssueSummary.Title(e));
    }

    [Fact]
    public void Title_of_an_exception_without_value_is_its_type()
    {
        Assert.Equal("System.StackOverflowException", IssueSummary.Title(Event(new ExceptionInfo { Type = "System.StackOverflowException" })));
    }

    [Fact]
    public void Title_of_an_exception_without_type_is_its_value()
    {
        Assert.Equal("Something broke", IssueSummary.Title(Event(new ExceptionInfo { Value = "Something broke" })));
    }

    [Fact]
    public void Title_falls_back_to_the_first_line_of_the_message()
    {
        var e = Event() with { Message = "Payment declined for order 17\nstack follows", MessageTemplate = "Payment declined for order {Id}" };

        Assert.Equal("Payment declined for order 17", IssueSummary.Title(e));
    }

    [Fact]
    public void Title_falls_back_to_the_template_when_there_is_no_message()
    {
        Assert.Equal("Payment declined for order {Id}", IssueSummary.Title(Event() with { MessageTemplate = "Payment declined for order {Id}" }));
    }

    [Fact]
    public void Title_uses_the_message_when_the_exception_has_neither_type_nor_value()
    {
        var e = Event(new ExceptionInfo { Frames = [new StackFrame { Function = "main" }] }) with { Message = "Crashed" };

        Assert.Equal("Crashed", IssueSummary.Title(e));
    }

    [Fact]
    public void Title_of_an_event_with_nothing_is_unlabeled()
    {
        Assert.Equal("<unlabeled event>", IssueSummary.Title(Event() with { Message = "  \n " }));
    }

    [Fact]
    public void Culprit_set_by_the_sdk_wins()
    {
        var e = Event(Thrown(new StackFrame { Module = "MyApp.Orders", Function = "PlaceOrder", InApp = true })) with
        {
            Culprit = "POST /orders",
        };

        Assert.Equal("POST /orders", IssueSummary.Culprit(e));
    }

    [Fact]
    public void Culprit_is_the_crash_site_most_in_app_frame_as_module_in_function()
    {
        var e = Event(Thrown(
            new StackFrame { Module = "MyApp.Api.OrdersController", Function = "Post", InApp = true },
            new StackFrame { Module = "MyApp.Orders.OrderService", Function = "PlaceOrder", InApp = true },
            new StackFrame { Module = "System.Linq.Enumerable", Function = "First", InApp = false },
            new StackFrame { Module = "Newtonsoft.Json.JsonConvert", Function = "Deserialize", InApp = null }));

        Assert.Equal("MyApp.Orders.OrderService in PlaceOrder", IssueSummary.Culprit(e));
    }

    [Fact]
    public void Culprit_uses_the_filename_when_the_frame_has_no_module()
    {
        var e = Event(Thrown(new StackFrame { Module = "(unknown)", Filename = "src/cart.js", Function = "addItem", InApp = true }));

        Assert.Equal("src/cart.js in addItem", IssueSummary.Culprit(e));
    }

    [Fact]
    public void Culprit_names_the_async_method_rather_than_its_state_machine()
    {
        var e = Event(Thrown(new StackFrame { Module = "MyApp.Orders.OrderService+<PlaceOrder>d__5", Function = "MoveNext", InApp = true }));

        Assert.Equal("MyApp.Orders.OrderService in PlaceOrder", IssueSummary.Culprit(e));
    }

    [Fact]
    public void Culprit_comes_from_the_primary_exception_only()
    {
        var e = Event(
            Thrown(new StackFrame { Module = "MyApp.Storage", Function = "Write", InApp = true }),
            Thrown(new StackFrame { Module = "System.Threading.Tasks.Task", Function = "Wait", InApp = false }));

        Assert.Null(IssueSummary.Culprit(e));
    }

    [Fact]
    public void Culprit_is_null_without_exceptions_or_culprit()
    {
        Assert.Null(IssueSummary.Culprit(Event() with { Message = "hello" }));
    }

    private static FaultlineEvent Event(params ExceptionInfo[] exceptions) => new()
    {
        EventId = Guid.NewGuid(),
        Timestamp = DateTimeOffset.UnixEpoch,
        Exceptions = exceptions,
    };

    private static ExceptionInfo Thrown(params StackFrame[] frames) => new() { Type = "Error", Value = "boom", Frames = frames };
}
