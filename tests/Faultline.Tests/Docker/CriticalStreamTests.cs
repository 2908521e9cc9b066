using System.Globalization;
using Faultline.Docker;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Docker;

/// <summary>
/// Issues from critical streams (a critical listener, a container name matching CriticalContainers)
/// are marked keep_until_reviewed in the store, so retention keeps them; other streams are not. Both engines.
/// </summary>
public abstract class CriticalStreamTests(StoreKind kind) : IAsyncLifetime
{
    private LogReceiverHarness _h = null!;

    public async Task InitializeAsync() =>
        _h = await LogReceiverHarness.StartAsync(kind, new Dictionary<string, string?>
        {
            ["Faultline:Docker:Listeners:critical:Critical"] = "true",
            ["Faultline:Docker:CriticalContainers:0"] = "db-*",
        }, ("plain", LogProtocol.SyslogTcp), ("critical", LogProtocol.SyslogTcp));

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private async Task<long> SendErrorAsync(string listener, string tag)
    {
        var word = "w" + Guid.NewGuid().ToString("N")[..10];
        await LogReceiverHarness.LoggerAsync(null, "--server", "127.0.0.1", "--port", _h.Port(listener).ToString(CultureInfo.InvariantCulture),
            "--tcp", "--rfc5424", "-t", tag, "-p", "user.err", $"replication broken {word}");
        return Assert.Single(await _h.WaitForEventsAsync(word)).GetProperty("issueId").GetInt64();
    }

    [Fact]
    public async Task Issues_of_critical_streams_are_kept_until_reviewed_and_others_are_not()
    {
        var byName = await SendErrorAsync("plain", "db-primary");
        var byListener = await SendErrorAsync("critical", "web");
        var ordinary = await SendErrorAsync("plain", "cache");

        Assert.Equal("true", LogReceiverHarness.Tag((await _h.WaitForEventsAsync("container_name:db-primary"))[0], "critical"));
        await WaitUntilKeptAsync(byName);
        await WaitUntilKeptAsync(byListener);
        Assert.False(await KeepUntilReviewedAsync(ordinary));
    }

    private async Task WaitUntilKeptAsync(long issueId)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
        while (!await KeepUntilReviewedAsync(issueId))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"issue {issueId} was not marked keep_until_reviewed");
            await Task.Delay(100);
        }
    }

    private async Task<bool> KeepUntilReviewedAsync(long issueId)
    {
        await using var connection = await _h.App.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT keep_until_reviewed FROM issues WHERE id = {issueId}";
        return Convert.ToBoolean(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}

public sealed class SqliteCriticalStreamTests() : CriticalStreamTests(StoreKind.Sqlite);

public sealed class PostgresCriticalStreamTests() : CriticalStreamTests(StoreKind.Postgres);
