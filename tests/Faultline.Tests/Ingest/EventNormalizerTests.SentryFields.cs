using Faultline.Events;
using Faultline.Ingest;

namespace Faultline.Tests.Ingest;

public partial class EventNormalizerTests
{
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
}
