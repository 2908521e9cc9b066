using System.Diagnostics;
using System.Text.Json;
using Faultline.Retention;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Retention;

/// <summary>`faultline archive list|restore` run as a child process against a swept store of each engine.</summary>
public abstract class ArchiveCommandTests(StoreKind kind) : IAsyncLifetime
{
    private RetentionHarness _h = null!;

    public async Task InitializeAsync()
    {
        _h = await RetentionHarness.CreateAsync(kind);
        await _h.Sweep().RunAsync(default);
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task List_shows_the_archived_days_and_restore_brings_them_back()
    {
        var from = _h.Today.AddDays(-RetentionHarness.Days).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var to = _h.Today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var (listCode, listOut, listErr) = await RunAsync("archive", "list", "--project", _h.ProjectId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        Assert.True(listCode == 0, listErr);
        var objects = JsonDocument.Parse(listOut).RootElement.GetProperty("objects");
        Assert.Equal(RetentionHarness.Days - RetentionHarness.HotDays - 1, objects.GetArrayLength());
        Assert.All(objects.EnumerateArray(), o => Assert.Equal("deleted", o.GetProperty("state").GetString()));

        var (code, stdout, stderr) = await RunAsync("archive", "restore", "--project", _h.ProjectId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--from", from, "--to", to, "--json");
        Assert.True(code == 0, stderr);
        var archived = _h.AIdsOlderThan(RetentionHarness.HotDays).ToHashSet();
        Assert.Equal(archived.Count, JsonDocument.Parse(stdout).RootElement.GetProperty("restored").GetInt64());
        Assert.True(archived.IsSubsetOf((await _h.HotEventsAsync(_h.IssueA, "TimeoutException")).Select(e => e.EventId)));
    }

    [Fact]
    public async Task Kept_lists_the_issues_held_hot_until_reviewed_with_their_old_events()
    {
        var (code, stdout, stderr) = await RunAsync("archive", "kept", "--project", _h.ProjectId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        Assert.True(code == 0, stderr);
        var items = JsonDocument.Parse(stdout).RootElement.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("issueId").GetInt64());
        Assert.Equal([_h.IssueB, _h.IssueC], items.Keys.Order());
        Assert.Equal("unreviewed_level", items[_h.IssueB].GetProperty("reason").GetString());
        Assert.Equal("keep_until_reviewed", items[_h.IssueC].GetProperty("reason").GetString());
        // Days 31 to 39 back are past the 30 hot days and still hot.
        Assert.Equal(RetentionHarness.Days - RetentionHarness.HotDays - 1, items[_h.IssueB].GetProperty("heldEvents").GetInt64());

        var (missingCode, _, missingErr) = await RunAsync("archive", "kept", "--project", "999999");
        Assert.Equal(1, missingCode);
        Assert.Contains("no project 999999", missingErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_date_is_a_usage_error_with_a_message()
    {
        var (code, _, stderr) = await RunAsync("archive", "restore", "--project", "1", "--from", "last week", "--to", "2026-01-01");
        Assert.Equal(1, code);
        Assert.Contains("--from must be a date", stderr, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "faultline.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Faultline__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        foreach (var (key, value) in _h.Database.Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        start.Environment["Faultline__Retention__Archive__LocalPath"] = ((LocalFolderArchive)_h.Archive).Root;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}

public sealed class SqliteArchiveCommandTests() : ArchiveCommandTests(StoreKind.Sqlite);

public sealed class PostgresArchiveCommandTests() : ArchiveCommandTests(StoreKind.Postgres);
