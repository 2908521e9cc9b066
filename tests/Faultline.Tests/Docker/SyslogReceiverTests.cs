using System.Globalization;
using Faultline.Docker;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Docker;

/// <summary>util-linux logger sends RFC 5424 and RFC 3164 over TCP and UDP; what it sent is stored, on both engines.</summary>
public abstract class SyslogReceiverTests(StoreKind kind) : IAsyncLifetime
{
    private LogReceiverHarness _h = null!;

    public async Task InitializeAsync() =>
        _h = await LogReceiverHarness.StartAsync(kind, null, ("tcp", LogProtocol.SyslogTcp), ("udp", LogProtocol.SyslogUdp));

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private static string Word() => "w" + Guid.NewGuid().ToString("N")[..10];

    private string[] Server(string listener, params string[] more) =>
        ["--server", "127.0.0.1", "--port", _h.Port(listener).ToString(CultureInfo.InvariantCulture), listener == "tcp" ? "--tcp" : "--udp", .. more];

    [Fact]
    public async Task Rfc5424_over_tcp_with_the_key_in_structured_data_is_stored_with_the_container_tags()
    {
        var word = Word();
        await LogReceiverHarness.LoggerAsync(null, [.. Server("tcp", "--rfc5424", "-t", "web/0123456789ab", "-p", "user.info",
            "--sd-id", "faultline@32473", "--sd-param", $"key=\"{_h.Tenant.PublicKey}\""), $"request served {word}"]);

        var stored = Assert.Single(await _h.WaitForEventsAsync(word));
        Assert.Equal($"request served {word}", stored.GetProperty("message").GetString());
        Assert.Equal("info", stored.GetProperty("level").GetString());
        Assert.Equal("web", LogReceiverHarness.Tag(stored, "container_name"));
        Assert.Equal("0123456789ab", LogReceiverHarness.Tag(stored, "container_id"));
        Assert.Equal("syslog", LogReceiverHarness.Tag(stored, "log_source"));
        Assert.Equal(Environment.MachineName, LogReceiverHarness.Tag(stored, "host"));
    }

    [Fact]
    public async Task Rfc5424_over_tcp_with_octet_counting_at_error_severity_makes_an_error_issue()
    {
        var word = Word();
        await LogReceiverHarness.LoggerAsync(null, [.. Server("tcp", "--rfc5424", "--octet-count", "-t", "api", "-p", "daemon.err"), $"database gone {word}"]);

        var stored = Assert.Single(await _h.WaitForEventsAsync(word));
        Assert.Equal("error", stored.GetProperty("level").GetString());
        Assert.Equal("api", LogReceiverHarness.Tag(stored, "container_name"));
        var issue = await _h.IssueAsync(stored.GetProperty("issueId").GetInt64());
        Assert.Equal("error", issue.GetProperty("level").GetString());
        Assert.StartsWith("database gone", issue.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Rfc3164_over_udp_goes_to_the_listener_default_project()
    {
        var word = Word();
        await LogReceiverHarness.LoggerAsync(null, [.. Server("udp", "--rfc3164", "-t", "worker", "-p", "user.warning"), $"queue is slow {word}"]);

        var stored = Assert.Single(await _h.WaitForEventsAsync(word));
        Assert.Equal($"queue is slow {word}", stored.GetProperty("message").GetString());
        Assert.Equal("warning", stored.GetProperty("level").GetString());
        Assert.Equal("worker", LogReceiverHarness.Tag(stored, "container_name"));
        Assert.Equal("worker", stored.GetProperty("logger").GetString());
    }

    [Fact]
    public async Task Rfc5424_over_udp_and_rfc3164_over_tcp_are_stored()
    {
        var udp = Word();
        var tcp = Word();
        await LogReceiverHarness.LoggerAsync(null, [.. Server("udp", "--rfc5424", "-t", "cache", "-p", "local0.notice"), $"evicted {udp}"]);
        await LogReceiverHarness.LoggerAsync(null, [.. Server("tcp", "--rfc3164", "-t", "cron", "-p", "cron.info"), $"job ran {tcp}"]);

        Assert.Equal("cache", LogReceiverHarness.Tag(Assert.Single(await _h.WaitForEventsAsync(udp)), "container_name"));
        Assert.Equal("cron", LogReceiverHarness.Tag(Assert.Single(await _h.WaitForEventsAsync(tcp)), "container_name"));
    }

    [Fact]
    public async Task Info_lines_matching_the_error_pattern_become_errors()
    {
        var word = Word();
        await LogReceiverHarness.LoggerAsync(null, [.. Server("tcp", "--rfc5424", "-t", "app", "-p", "user.info"), $"FATAL could not bind {word}"]);

        Assert.Equal("error", Assert.Single(await _h.WaitForEventsAsync(word)).GetProperty("level").GetString());
    }

    [Fact]
    public async Task A_multi_line_stack_trace_is_joined_into_one_event()
    {
        var word = Word();
        var trace = $"""
            Unhandled exception. System.InvalidOperationException: Sequence contains no elements {word}
               at System.Linq.ThrowHelper.ThrowNoElementsException()
               at Shop.Orders.Checkout(Cart cart) in /src/Orders.cs:line 42
               at Program.<Main>$(String[] args) in /src/Program.cs:line 7
            after the trace {word}

            """;
        await LogReceiverHarness.LoggerAsync(trace, Server("tcp", "--rfc5424", "-t", "shop", "-p", "user.err"));

        var events = await _h.WaitForEventsAsync(word, 2);
        Assert.Equal(2, events.Count);
        var joined = Assert.Single(events, e => e.GetProperty("message").GetString()!.StartsWith("Unhandled", StringComparison.Ordinal));
        var lines = joined.GetProperty("message").GetString()!.Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal("   at Program.<Main>$(String[] args) in /src/Program.cs:line 7", lines[3]);
    }

    [Fact]
    public async Task A_line_with_an_unknown_key_is_refused_and_counted_never_stored()
    {
        var word = Word();
        await LogReceiverHarness.LoggerAsync(null, [.. Server("tcp", "--rfc5424", "-t", "x", "--sd-id", "faultline@32473",
            "--sd-param", "key=\"00000000000000000000000000000000\""), $"who am i {word}"]);
        var known = Word();
        await LogReceiverHarness.LoggerAsync(null, [.. Server("tcp", "--rfc5424", "-t", "x"), $"known {known}"]);

        await _h.WaitForEventsAsync(known);
        Assert.Empty(await _h.EventsAsync(word));
        Assert.True(_h.Dropped("unknown_source") >= 1);
    }
}

public sealed class SqliteSyslogReceiverTests() : SyslogReceiverTests(StoreKind.Sqlite);

public sealed class PostgresSyslogReceiverTests() : SyslogReceiverTests(StoreKind.Postgres);
