using System.Net.Sockets;
using System.Text;
using Faultline.Docker;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Docker;

/// <summary>
/// Broken and hostile senders: the receiver drops and counts what it cannot read, stays up and bounded,
/// and keeps serving the next sender. The receivers do not depend on the store engine: SQLite only.
/// </summary>
public sealed class HostileSyslogTests : IAsyncLifetime
{
    private LogReceiverHarness _h = null!;

    public async Task InitializeAsync() =>
        _h = await LogReceiverHarness.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>
        {
            ["Faultline:Docker:MaxMessageBytes"] = "4096",
            ["Faultline:Ingest:RateLimit:EventsPerSecond"] = "50",
            ["Faultline:Ingest:RateLimit:Burst"] = "100",
        }, ("tcp", LogProtocol.SyslogTcp), ("udp", LogProtocol.SyslogUdp));

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private static string Word() => "w" + Guid.NewGuid().ToString("N")[..10];

    private async Task SendTcpAsync(byte[] bytes)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", _h.Port("tcp"));
        await client.GetStream().WriteAsync(bytes);
    }

    private static string Line(string message) => $"<14>1 2026-11-25T10:00:00.123456Z host app - - - {message}";

    private static string Counted(string message)
    {
        var line = Line(message);
        return $"{Encoding.UTF8.GetByteCount(line)} {line}";
    }

    [Fact]
    public async Task A_truncated_octet_counted_frame_is_dropped_and_counted()
    {
        var good = Word();
        await SendTcpAsync(Encoding.UTF8.GetBytes(Counted(good) + "500 <14>1 - - - - - - cut short"));

        await _h.WaitForEventsAsync(good);
        await WaitUntilAsync(() => _h.Dropped("truncated") >= 1);
    }

    [Fact]
    public async Task A_count_that_is_not_a_number_skips_to_the_next_line_and_reading_goes_on()
    {
        var after = Word();
        await SendTcpAsync(Encoding.UTF8.GetBytes($"12x4 garbage\n{Line(after)}\n"));

        await _h.WaitForEventsAsync(after);
        Assert.True(_h.Dropped("bad_frame") >= 1);
    }

    [Fact]
    public async Task Oversized_lines_and_oversized_counts_are_skipped_without_being_buffered()
    {
        var after = Word();
        var huge = new string('x', 100_000);
        // A newline-framed line far over the limit, then a count far over it with its bytes, then a good frame.
        var bytes = Encoding.UTF8.GetBytes($"{Line(huge)}\n99999 {new string('y', 99_999)}{Counted(after)}");
        await SendTcpAsync(bytes);

        await _h.WaitForEventsAsync(after);
        Assert.True(_h.Dropped("too_large") >= 2);
        Assert.Empty(await _h.EventsAsync("xxxxxxxx"));
    }

    [Fact]
    public async Task A_wrong_octet_count_does_not_stop_the_connection()
    {
        var first = Word();
        var second = Word();
        var line = Line(first);
        // The count is 5 bytes short: the frame is cut and the rest is read as the next frame.
        var bytes = Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetByteCount(line) - 5} {line}\n{Line(second)}\n");
        await SendTcpAsync(bytes);

        await _h.WaitForEventsAsync(second);
    }

    [Fact]
    public async Task Garbage_and_bad_priorities_over_udp_are_dropped_and_counted()
    {
        using var udp = new UdpClient();
        await udp.SendAsync(Encoding.UTF8.GetBytes("no priority at all"), "127.0.0.1", _h.Port("udp"));
        await udp.SendAsync(Encoding.UTF8.GetBytes("<999>1 - - - - - - too high"), "127.0.0.1", _h.Port("udp"));
        await udp.SendAsync(new byte[] { 0x3c, 0xff, 0xfe, 0x00 }, "127.0.0.1", _h.Port("udp"));

        await WaitUntilAsync(() => _h.Dropped("malformed") + _h.Dropped("bad_priority") >= 3);
    }

    [Fact]
    public async Task A_udp_flood_from_one_source_is_cut_by_the_rate_limit_and_the_receiver_stays_up()
    {
        using var udp = new UdpClient();
        var port = _h.Port("udp");
        for (var i = 0; i < 5000; i++)
        {
            await udp.SendAsync(Encoding.UTF8.GetBytes(Line($"flood {i}")), "127.0.0.1", port);
        }
        await WaitUntilAsync(() => _h.Dropped("rate_limited") + _h.Dropped("overloaded") > 1000);

        // Still serving: once the bucket refills, a TCP line is stored.
        var after = Word();
        await SendTcpAsync(Encoding.UTF8.GetBytes(Line(after) + "\n"));
        await _h.WaitForEventsAsync(after);
        Assert.True((await _h.EventsAsync("flood")).Count <= 100 + 50 * 30, "more flood lines stored than the rate limit allows");
    }

    [Fact]
    public async Task A_tcp_flood_is_slowed_by_back_pressure_not_dropped()
    {
        // 300 lines over a limit of 100 at once and 50/s: TCP lines wait for the bucket instead of being dropped.
        var word = Word();
        var text = new StringBuilder();
        for (var i = 0; i < 300; i++)
        {
            text.Append(Line($"{word} line {i}")).Append('\n');
        }
        await SendTcpAsync(Encoding.UTF8.GetBytes(text.ToString()));

        // Every plain line of the container lands in its one log-stream issue: its count reaches 300.
        var issueId = (await _h.WaitForEventsAsync(word))[0].GetProperty("issueId").GetInt64();
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while ((await _h.IssueAsync(issueId)).GetProperty("count").GetInt64() < 300)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "not all 300 TCP lines were stored within 30 s");
            await Task.Delay(200);
        }
        Assert.Equal(0, _h.Dropped("rate_limited"));
    }

    private async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"condition not met within 20 s; dropped: {_h.DropSummary}");
            await Task.Delay(50);
        }
    }
}
