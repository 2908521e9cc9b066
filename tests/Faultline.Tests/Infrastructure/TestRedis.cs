using System.Diagnostics;
using StackExchange.Redis;

namespace Faultline.Tests.Infrastructure;

/// <summary>
/// Redis for the multi-node tests: the server ./test.sh starts (FAULTLINE_TEST_REDIS, from
/// scripts/redis.sh), or a private one a test may stop and restart. Without it the tests fail and say so.
/// </summary>
public sealed class TestRedis : IAsyncDisposable
{
    public const string Variable = "FAULTLINE_TEST_REDIS";

    private readonly string? _directory;

    private TestRedis(string connectionString, string? directory)
    {
        ConnectionString = connectionString;
        _directory = directory;
    }

    /// <summary>host:port,password=... as scripts/redis.sh prints it.</summary>
    public string ConnectionString { get; }

    /// <summary>The Redis ./test.sh started, shared by every test class (each keeps to its own key prefix).</summary>
    public static TestRedis Shared() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? new TestRedis(value, null)
            : throw new InvalidOperationException(
                $"The multi-node tests need {Variable} (a StackExchange.Redis connection string, as scripts/redis.sh start DIR prints). Run ./test.sh, which starts one.");

    /// <summary>A Redis of this test's own (scripts/redis.sh), so the test can stop and restart it.</summary>
    public static async Task<TestRedis> StartOwnAsync()
    {
        Shared(); // the same clear failure when the suite runs without Redis
        var directory = Path.Combine(Path.GetTempPath(), "faultline-redis-" + Guid.NewGuid().ToString("N"));
        return new TestRedis(await ScriptAsync("start", directory), directory);
    }

    /// <summary>Faultline's settings for this Redis: endpoint and password apart (Faultline:Redis:Password), and a key prefix of the test's own.</summary>
    public IReadOnlyDictionary<string, string?> Settings(string prefix)
    {
        var options = ConfigurationOptions.Parse(ConnectionString);
        var password = options.Password;
        options.Password = null;
        return new Dictionary<string, string?>
        {
            ["Faultline:Redis:ConnectionString"] = options.ToString(),
            ["Faultline:Redis:Password"] = password,
            ["Faultline:Redis:Prefix"] = prefix,
            // A stopped Redis is noticed at once (refused connection); a short retry keeps the test quick.
            ["Faultline:Redis:RetryAfterFailureSeconds"] = "1",
            // The 250 ms default is for production; a first call here can wait longer behind JIT and
            // parallel tests on a loaded 2-core machine, and would then fall back to local limits.
            ["Faultline:Redis:OperationTimeoutMilliseconds"] = "1000",
        };
    }

    /// <summary>A loopback port nothing listens on (for a Redis that is not there).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Task StopAsync() => ScriptAsync("stop", OwnDirectory());

    /// <summary>Starts it again on the same port with the same password (a Redis restart).</summary>
    public Task RestartAsync() => ScriptAsync("start", OwnDirectory());

    private string OwnDirectory() => _directory ?? throw new InvalidOperationException("Only a Redis of the test's own may be stopped.");

    private static async Task<string> ScriptAsync(string command, string directory)
    {
        var start = new ProcessStartInfo(Path.Combine(RepositoryFiles.Root, "scripts", "redis.sh"), [command, directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/redis.sh {command} failed: {await error}");
        }
        return (await output).Trim();
    }

    public async ValueTask DisposeAsync()
    {
        if (_directory is not null)
        {
            await StopAsync();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
