using System.Security.Cryptography;
using Faultline.Retention;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Retention;

/// <summary>
/// The S3 target against a real S3-compatible server (s3rver, started by ./test.sh as FAULTLINE_TEST_S3).
/// Every check compares the bytes read back: s3rver answers 200 even when AWSSDK.S3 sends a framing it stores.
/// </summary>
public static class S3TestServer
{
    public const string Variable = "FAULTLINE_TEST_S3";
    public const string Bucket = "faultline-test";

    public static S3Archive Archive(string? prefix = null) => new(new S3ArchiveOptions
    {
        ServiceUrl = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } url
            ? url
            : throw new InvalidOperationException($"S3 tests need {Variable} (the endpoint URL of an S3-compatible server with bucket '{Bucket}'). Run ./test.sh, or scripts/s3.sh start DIR and export it."),
        Bucket = Bucket,
        Prefix = prefix ?? "tests/" + Guid.NewGuid().ToString("N") + "/",
        ForcePathStyle = true,
        AccessKey = "S3RVER",
        SecretKey = "S3RVER",
    });
}

public sealed class S3ArchiveTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100_000)]
    [InlineData(9_000_000)]
    public async Task An_object_reads_back_byte_for_byte(int size)
    {
        using var archive = S3TestServer.Archive();
        var bytes = RandomNumberGenerator.GetBytes(size);

        await archive.PutAsync("events/object.bin", new MemoryStream(bytes), default);

        await using var stream = await archive.OpenReadAsync("events/object.bin", default);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(copy.ToArray()));
        Assert.Equal(bytes.Length, copy.Length);
    }

    [Fact]
    public async Task A_missing_object_is_null_and_delete_is_idempotent()
    {
        using var archive = S3TestServer.Archive();
        Assert.Null(await archive.OpenReadAsync("nothing-here", default));
        await archive.PutAsync("gone", new MemoryStream([1, 2, 3]), default);
        await archive.DeleteAsync("gone", default);
        await archive.DeleteAsync("gone", default);
        Assert.Null(await archive.OpenReadAsync("gone", default));
    }
}

/// <summary>The whole flow (sweep, verify, expire, restore, crash and rerun) with s3rver as the archive, on both engines.</summary>
public abstract class S3RetentionFlowTests(StoreKind kind) : IAsyncLifetime
{
    private RetentionHarness _h = null!;

    public async Task InitializeAsync() => _h = await RetentionHarness.CreateAsync(kind, () => S3TestServer.Archive());

    public async Task DisposeAsync() => await _h.DisposeAsync();

    [Fact]
    public async Task Sweep_crash_rerun_expire_and_restore_against_s3rver()
    {
        var crashing = _h.Sweep();
        var seen = 0;
        crashing.AfterStep = (s, _) => s == SweepStep.ObjectWritten && ++seen == 3 ? throw new SimulatedCrashException() : Task.CompletedTask;
        await Assert.ThrowsAsync<SimulatedCrashException>(() => crashing.RunAsync(default));
        var report = await _h.Sweep().RunAsync(default);

        Assert.Equal(0, report.VerifyFailures);
        var expected = _h.AIdsOlderThan(RetentionHarness.HotDays).Order().ToList();
        Assert.Equal(expected, (await _h.ArchivedIdsAsync()).Order());
        Assert.Equal((RetentionHarness.HotDays + 1) * RetentionHarness.AEventsPerDay, (await _h.HotEventsAsync(_h.IssueA)).Count);
        Assert.Equal(RetentionHarness.Days, (await _h.HotEventsAsync(_h.IssueB)).Count);

        var restored = await _h.Restore().RestoreAsync(_h.ProjectId, _h.Today.AddDays(-RetentionHarness.Days), _h.Today, default);
        Assert.Equal(expected.Count, restored.Restored);
        Assert.Equal(RetentionHarness.Days * RetentionHarness.AEventsPerDay, (await _h.HotEventsAsync(_h.IssueA, "TimeoutException")).Count);

        _h.Options.ArchiveDays = 5;
        var expiry = await _h.Sweep().RunAsync(default);
        Assert.Equal(RetentionHarness.Days - 36, expiry.ObjectsExpired);
        Assert.Equal((35 - RetentionHarness.HotDays) * RetentionHarness.AEventsPerDay, (await _h.ArchivedIdsAsync()).Count);
    }
}

public sealed class SqliteS3RetentionFlowTests() : S3RetentionFlowTests(StoreKind.Sqlite);

public sealed class PostgresS3RetentionFlowTests() : S3RetentionFlowTests(StoreKind.Postgres);
