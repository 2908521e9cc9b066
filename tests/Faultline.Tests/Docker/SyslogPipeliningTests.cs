using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Faultline.Docker;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Docker;

/// <summary>
/// One TCP connection keeps two batches in flight (the next is queued while the previous commits): with
/// small batches, thousands of lines still arrive exactly once, in the order sent (SQLite's single writer
/// stores them in queue order), and a stack trace split over many lines is still joined. Both engines.
/// </summary>
public abstract class SyslogPipeliningTests(StoreKind kind) : IAsyncLifetime
{
    private const int Lines = 3000;
    private LogReceiverHarness _h = null!;

    public async Task InitializeAsync() =>
        _h = await LogReceiverHarness.StartAsync(kind, new Dictionary<string, string?>
        {
            ["Faultline:Docker:MaxBatchLines"] = "25",
            ["Faultline:Docker:QueueCapacity"] = "64",
        }, ("syslog", LogProtocol.SyslogTcp));

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Lines_over_one_connection_arrive_once_and_in_order_with_batches_in_flight()
    {
        var word = "w" + Guid.NewGuid().ToString("N")[..10];
        var text = new StringBuilder();
        for (var i = 0; i < Lines; i++)
        {
            // Distinct timestamps in sending order, as Docker's rfc5424micro sends them.
            var at = new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero).AddTicks(i * 10L);
            text.Append(CultureInfo.InvariantCulture, $"<14>1 {at:yyyy-MM-ddTHH:mm:ss.ffffffZ} host app - - - line {i:D5} {word}\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"<11>1 2026-11-25T10:00:01.000000Z host app - - - System.InvalidOperationException: broken {word}\n");
        for (var i = 0; i < 60; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"<11>1 2026-11-25T10:00:01.000000Z host app - - -    at Frame{i}() in Program.cs:line {i}\n");
        }
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", _h.Port("syslog"));
            await client.GetStream().WriteAsync(Encoding.UTF8.GetBytes(text.ToString()));
        }

        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        List<string> stored;
        while ((stored = await MessagesAsync(word)).Count < Lines + 1)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"{stored.Count} of {Lines + 1} events stored; dropped: {_h.DropSummary}");
            await Task.Delay(200);
        }
        await Task.Delay(500);
        stored = await MessagesAsync(word);
        var lines = stored.Where(m => m.StartsWith("line ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Lines, lines.Count);
        Assert.Equal(Lines, lines.Distinct().Count());
        if (kind == StoreKind.Sqlite)
        {
            // One writer takes queued batches in order: storage order is sending order.
            Assert.Equal(lines.Order(StringComparer.Ordinal), lines);
        }
        var trace = Assert.Single(stored, m => m.StartsWith("System.InvalidOperationException", StringComparison.Ordinal));
        Assert.Contains("at Frame59()", trace, StringComparison.Ordinal);
        Assert.Equal(0, _h.Dropped("error"));
    }

    /// <summary>The messages containing the word, in storage order.</summary>
    private async Task<List<string>> MessagesAsync(string word)
    {
        var database = _h.App.Database;
        await using var connection = await database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = database.Kind == StoreKind.Sqlite
            ? $"SELECT message FROM events WHERE message LIKE '%{word}%' ORDER BY row_id"
            : $"SELECT message FROM events WHERE message LIKE '%{word}%'";
        await using var reader = await command.ExecuteReaderAsync();
        var messages = new List<string>();
        while (await reader.ReadAsync())
        {
            messages.Add(reader.GetString(0));
        }
        return messages;
    }
}

public sealed class SqliteSyslogPipeliningTests() : SyslogPipeliningTests(StoreKind.Sqlite);

public sealed class PostgresSyslogPipeliningTests() : SyslogPipeliningTests(StoreKind.Postgres);
