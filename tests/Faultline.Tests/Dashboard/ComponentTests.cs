using Bunit;
using Faultline.Dashboard;
using Faultline.Dashboard.Components;
using Faultline.Events;
using Faultline.Search;

namespace Faultline.Tests.Dashboard;

/// <summary>bUnit tests of the components with logic: query bar, stack trace, filters, sparkline.</summary>
public sealed class ComponentTests : BunitContext
{
    [Fact]
    public void The_query_bar_marks_the_character_the_parser_complains_about()
    {
        const string query = "level:error is:bogus timeout";
        var error = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse(query, DateTimeOffset.UtcNow));

        var bar = Render<QueryBar>(p => p.Add(x => x.Value, query).Add(x => x.Error, error));

        Assert.Equal("true", bar.Find("input").GetAttribute("aria-invalid"));
        Assert.Equal(query, bar.Find("input").GetAttribute("value"));
        Assert.Equal(query[error.Position].ToString(), bar.Find("mark").TextContent);
        Assert.Equal(query, bar.Find(".query-echo").TextContent);
        Assert.Contains(error.Message, bar.Find("[role=alert]").TextContent);
    }

    [Fact]
    public void An_error_at_the_end_of_the_query_is_shown_as_a_marked_blank_and_a_valid_query_shows_none()
    {
        var error = Assert.Throws<QuerySyntaxException>(() => QueryParser.Parse("release:", DateTimeOffset.UtcNow));
        var bar = Render<QueryBar>(p => p.Add(x => x.Value, "release:").Add(x => x.Error, error));
        Assert.Equal(" ", bar.Find("mark").TextContent);

        var valid = Render<QueryBar>(p => p.Add(x => x.Value, "release:1.0"));
        Assert.Empty(valid.FindAll("[role=alert]"));
        Assert.Equal("false", valid.Find("input").GetAttribute("aria-invalid"));
    }

    private static StackFrame F(string function, bool inApp) => new() { Function = function, Filename = function + ".js", Lineno = 1, InApp = inApp };

    [Fact]
    public void The_stack_trace_shows_the_thrown_exception_first_most_recent_call_first_and_folds_system_frames()
    {
        ExceptionInfo[] chain =
        [
            new() { Type = "IOException", Value = "disk gone", Frames = [F("read", false)] },
            new() { Type = "OrderFailed", Value = "could not save", Frames = [F("main", true), F("framework1", false), F("framework2", false), F("save", true), F("driver", false)] },
        ];

        var trace = Render<StackTrace>(p => p.Add(x => x.Exceptions, chain));

        var types = trace.FindAll(".exc-type").Select(e => e.TextContent).ToList();
        Assert.Equal(["OrderFailed", "IOException"], types);
        var first = trace.FindAll("section.exception")[0];
        var functions = first.QuerySelectorAll(".fn").Select(e => e.TextContent).ToList();
        Assert.Equal(["driver", "save", "framework2", "framework1", "main"], functions);
        Assert.Equal(["save", "main"], first.QuerySelectorAll("li.in-app .fn").Select(e => e.TextContent).ToList());
        var folded = first.QuerySelectorAll("details.system-frames summary").Select(e => e.TextContent).ToList();
        Assert.Equal(["1 system frame", "2 system frames"], folded);
        // The cause has no in-app frame at all: nothing is folded away there.
        var cause = trace.FindAll("section.exception")[1];
        Assert.Empty(cause.QuerySelectorAll("details"));
        Assert.Equal("read", cause.QuerySelector(".fn")!.TextContent);
    }

    [Fact]
    public void A_frame_with_source_context_numbers_the_lines_around_the_current_one()
    {
        var frame = new StackFrame
        {
            Function = "checkout", Filename = "cart.js", Lineno = 42, InApp = true,
            PreContext = ["function checkout(cart) {", "  // total"], ContextLine = "  cart.total()", PostContext = ["}"],
        };

        var trace = Render<StackTrace>(p => p.Add(x => x.Exceptions, [new ExceptionInfo { Type = "TypeError", Frames = [frame] }]));

        var numbers = trace.FindAll("pre.context .ln").Select(e => e.TextContent).ToList();
        Assert.Equal(["40", "41", "42", "43"], numbers);
        Assert.Equal("42  cart.total()", trace.Find(".line.current").TextContent.TrimEnd());
        Assert.Equal("cart.js:42", trace.Find(".file").TextContent);
    }

    [Fact]
    public void The_filters_show_the_current_choices_and_offer_clear_only_when_something_narrows_the_list()
    {
        var query = IssueListQuery.From("timeout", "resolved", "error", "production", null, "7d", "count", null);

        var filters = Render<IssueFilters>(p => p.Add(x => x.ProjectId, 7).Add(x => x.Query, query));

        Assert.Equal("resolved", filters.Find("select[name=status] option[selected]").GetAttribute("value"));
        Assert.Equal("error", filters.Find("select[name=level] option[selected]").GetAttribute("value"));
        Assert.Equal("7d", filters.Find("select[name=period] option[selected]").GetAttribute("value"));
        Assert.Equal("count", filters.Find("select[name=sort] option[selected]").GetAttribute("value"));
        Assert.Equal("production", filters.Find("input[name=environment]").GetAttribute("value"));
        Assert.Equal("/projects/7/issues", filters.Find("a.clear").GetAttribute("href"));
        Assert.Equal("/projects/7/issues", filters.Find("form").GetAttribute("action"));

        var plain = Render<IssueFilters>(p => p.Add(x => x.ProjectId, 7).Add(x => x.Query, new IssueListQuery()));
        Assert.Empty(plain.FindAll("a.clear"));
    }

    [Fact]
    public void Issue_list_urls_leave_out_defaults_and_unknown_values_fall_back_to_them()
    {
        var query = IssueListQuery.From(" ", "nonsense", "loud", "", "1.0 beta", "forever", "random", "abc");
        Assert.Equal(new IssueListQuery(Release: "1.0 beta", Cursor: "abc"), query);
        Assert.Equal("/projects/3/issues?release=1.0%20beta&cursor=abc", query.Url(3));
        Assert.Equal("/projects/3/issues?release=1.0%20beta&sort=count", query.Url(3, query with { Sort = "count", Cursor = null }));
        Assert.False(new IssueListQuery().IsFiltered);
        Assert.True(query.IsFiltered);
    }

    [Fact]
    public void The_sparkline_scales_bars_to_the_busiest_hour_and_keeps_empty_hours_flat()
    {
        var spark = Render<Sparkline>(p => p.Add(x => x.Values, [0L, 5L, 10L]).Add(x => x.Width, 30).Add(x => x.Height, 20));

        var heights = spark.FindAll("rect").Select(r => r.GetAttribute("height")).ToList();
        Assert.Equal(["0", "10", "20"], heights);
        Assert.Equal("15 events in the last 24 hours", spark.Find("svg").GetAttribute("aria-label"));
    }
}
