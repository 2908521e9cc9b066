using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Accounts;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Faultline.Tests.Cli;

/// <summary>
/// The server binary's admin subcommands, run as a child process the way an operator or a script
/// runs them, against a fresh database of each engine.
/// </summary>
public abstract class CommandLineTests(StoreKind kind) : IAsyncLifetime
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);
    private TestDatabase _database = null!;
    private string _workingDirectory = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync(kind);
        _workingDirectory = Path.Combine(Path.GetTempPath(), "faultline-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_workingDirectory);
    }

    public async Task DisposeAsync()
    {
        // Safe after a FaultlineApp already disposed it: dropping and deleting are idempotent.
        await _database.DisposeAsync();
        try
        {
            Directory.Delete(_workingDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean.
        }
    }

    [Fact]
    public async Task Migrate_reports_the_versions_it_applied_and_nothing_the_second_time()
    {
        var first = await RunAsync("migrate", "--json");
        var second = await RunAsync("migrate", "--json");

        first.AssertSucceeded();
        var applied = first.Json().GetProperty("applied");
        Assert.True(applied.GetArrayLength() > 0, $"The first migrate on an empty database reported no migrations applied: {first.Stdout}");
        second.AssertSucceeded();
        Assert.Equal("""{"applied":[]}""", second.Stdout.Trim());
    }

    [Fact]
    public async Task An_admin_created_on_the_command_line_owns_new_projects_and_its_token_reads_them()
    {
        var email = "Ada@Example.com";
        var user = await RunAsync("create-user", "--email", email, "--password", "correct horse battery", "--admin", "--json");
        var project = await RunAsync(["create-project", "--org", "Acme", "--name", "Web", "--json"],
            new Dictionary<string, string> { ["Faultline__PublicUrl"] = "http://errors.example.com:9000/prefix" });
        var token = await RunAsync("create-token", "--email", email, "--json");

        user.AssertSucceeded();
        var createdUser = user.Json();
        Assert.Equal("ada@example.com", createdUser.GetProperty("email").GetString());
        Assert.True(createdUser.GetProperty("isAdmin").GetBoolean());
        Assert.True(createdUser.GetProperty("userId").GetInt64() > 0);

        project.AssertSucceeded();
        var created = project.Json();
        Assert.True(created.GetProperty("organizationId").GetInt64() > 0);
        Assert.Equal("acme", created.GetProperty("organization").GetString());
        var projectId = created.GetProperty("projectId").GetInt64();
        Assert.Equal("web", created.GetProperty("project").GetString());
        var publicKey = created.GetProperty("publicKey").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", publicKey);
        Assert.Equal($"http://{publicKey}@errors.example.com:9000/prefix/{projectId}", created.GetProperty("dsn").GetString());

        token.AssertSucceeded();
        var apiToken = token.Json().GetProperty("token").GetString()!;
        Assert.StartsWith("flt_", apiToken, StringComparison.Ordinal);

        // The server on the same database accepts the token, and the admin sees the project.
        await using var app = new FaultlineApp(_database);
        var response = await app.ApiClient(apiToken).GetAsync("/api/v1/projects");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var projects = await response.Content.ReadFromJsonAsync<JsonElement>();
        var listed = Assert.Single(projects.EnumerateArray());
        Assert.Equal(projectId, listed.GetProperty("id").GetInt64());
        Assert.Equal("web", listed.GetProperty("slug").GetString());
    }

    [Fact]
    public async Task The_dsn_uses_the_default_public_url_when_none_is_configured()
    {
        var project = await RunAsync("create-project", "--org", "Acme", "--name", "Web", "--json");

        project.AssertSucceeded();
        var created = project.Json();
        Assert.Equal($"http://{created.GetProperty("publicKey").GetString()}@localhost:8100/{created.GetProperty("projectId").GetInt64()}",
            created.GetProperty("dsn").GetString());
    }

    [Fact]
    public async Task Refused_commands_exit_non_zero_with_a_message_and_no_stack_trace()
    {
        var shortPassword = await RunAsync("create-user", "--email", "short@example.com", "--password", "too short", "--json");
        var first = await RunAsync("create-user", "--email", "taken@example.com", "--password", "a long enough password", "--json");
        var duplicate = await RunAsync("create-user", "--email", "TAKEN@example.com", "--password", "another long password", "--json");
        var unknownOwner = await RunAsync("create-project", "--org", "Acme", "--name", "Web", "--owner", "nobody@example.com", "--json");
        var missingEmail = await RunAsync("create-user", "--password", "a long enough password", "--json");

        first.AssertSucceeded();
        shortPassword.AssertRefused("at least 12 characters");
        duplicate.AssertRefused("already exists");
        unknownOwner.AssertRefused("nobody@example.com");
        missingEmail.AssertRefused("--email");
    }

    [Fact]
    public async Task Password_stdin_reads_the_password_from_standard_input()
    {
        const string password = "read from standard input";
        var user = await RunAsync(["create-user", "--email", "stdin@example.com", "--password-stdin", "--json"], stdin: password + "\n");

        user.AssertSucceeded();
        Assert.False(user.Json().GetProperty("isAdmin").GetBoolean());
        var store = await _database.OpenStoreAsync();
        var accounts = new AccountService(store, TimeProvider.System, Options.Create(new FaultlineOptions()), Options.Create(new Faultline.Operations.SelfReport.SelfReportOptions()));
        Assert.NotNull(await accounts.VerifyPasswordAsync("stdin@example.com", password, default));
        Assert.Null(await accounts.VerifyPasswordAsync("stdin@example.com", password + "\n", default));
    }

    [Fact]
    public async Task Revoke_key_and_set_rate_limit_change_the_stored_key()
    {
        var project = await RunAsync("create-project", "--org", "Acme", "--name", "Web", "--json");
        project.AssertSucceeded();
        var publicKey = project.Json().GetProperty("publicKey").GetString()!;

        var limited = await RunAsync("set-rate-limit", "--key", publicKey, "--events-per-second", "2.5", "--json");
        var neither = await RunAsync("set-rate-limit", "--key", publicKey, "--json");
        var outOfRange = await RunAsync("set-rate-limit", "--key", publicKey, "--events-per-second", "0", "--json");
        var revoked = await RunAsync("revoke-key", "--key", publicKey, "--json");
        var unknown = await RunAsync("revoke-key", "--key", "ffffffffffffffffffffffffffffffff", "--json");

        limited.AssertSucceeded();
        Assert.Equal(2.5, limited.Json().GetProperty("rateLimitPerSecond").GetDouble());
        neither.AssertRefused("--events-per-second N or --default");
        outOfRange.AssertRefused("between");
        revoked.AssertSucceeded();
        Assert.NotEqual(JsonValueKind.Null, revoked.Json().GetProperty("revokedAt").ValueKind);
        unknown.AssertRefused("No project key");
        var key = await (await _database.OpenStoreAsync()).FindProjectKeyAsync(publicKey, default);
        Assert.NotNull(key!.RevokedAt);
        Assert.Equal(2.5, key.RateLimitPerSecond);
    }

    private Task<ProcessResult> RunAsync(params string[] args) => RunAsync(args, null);

    private async Task<ProcessResult> RunAsync(string[] args, IReadOnlyDictionary<string, string>? environment = null, string? stdin = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = _workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "faultline.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // Only this test's database and settings: nothing inherited from the shell running the tests.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Faultline__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        foreach (var (key, value) in _database.Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(ProcessTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"faultline {string.Join(' ', args)} did not exit within {ProcessTimeout.TotalSeconds} s.");
        }
        return new ProcessResult(string.Join(' ', args), process.ExitCode, await stdout, await stderr);
    }

    private sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr)
    {
        public void AssertSucceeded() =>
            Assert.True(ExitCode == 0, $"faultline {Command} exited {ExitCode}.\nstdout: {Stdout}\nstderr: {Stderr}");

        /// <summary>Scripts parse stdout: with --json it holds exactly one JSON object and nothing else.</summary>
        public JsonElement Json()
        {
            try
            {
                using var document = JsonDocument.Parse(Stdout);
                return document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new Xunit.Sdk.XunitException($"faultline {Command} did not print one JSON object ({e.Message}):\n{Stdout}");
            }
        }

        public void AssertRefused(string messagePart)
        {
            Assert.True(ExitCode != 0, $"faultline {Command} succeeded but should have been refused.\nstdout: {Stdout}");
            Assert.Contains(messagePart, Stderr, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Exception", Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", Stdout, StringComparison.Ordinal);
        }
    }
}

public sealed class SqliteCommandLineTests() : CommandLineTests(StoreKind.Sqlite);

public sealed class PostgresCommandLineTests() : CommandLineTests(StoreKind.Postgres);
