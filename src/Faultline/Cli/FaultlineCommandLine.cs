using System.CommandLine;
using System.Text.Json;
using Faultline.Accounts;
using Faultline.Storage;

namespace Faultline.Cli;

/// <summary>
/// Subcommands of the server binary. Without a subcommand, or with `serve`, the server runs and
/// every argument goes to ASP.NET Core's configuration (--urls, --Faultline:Storage:Provider=...).
/// </summary>
public static class FaultlineCommandLine
{
    private static readonly string[] AdminCommands = ["migrate", "create-user", "create-project", "create-token", "revoke-key", "set-rate-limit", "tail", "archive", "--help", "-h", "-?", "--version"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static bool IsAdminCommand(string[] args) => args.Length > 0 && AdminCommands.Contains(args[0]);

    public static string[] ServerArguments(string[] args) => args.Length > 0 && args[0] == "serve" ? args[1..] : args;

    public static async Task<int> RunAsync(string[] args)
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object for scripts" };
        var root = new RootCommand("Faultline: self-hosted error tracking. Run without a command (or with `serve`) to start the server.");

        var migrate = new Command("migrate", "Apply database migrations and exit") { json };
        migrate.SetAction((parse, ct) => WithServicesAsync(parse, async (services, token) =>
        {
            var migrator = services.GetRequiredService<ISchemaMigrator>();
            var applied = await migrator.MigrateAsync(token);
            await migrator.PrepareAheadAsync(DateTimeOffset.UtcNow, token);
            return Print(parse.GetValue(json), new { applied }, applied.Count == 0 ? "Schema is current." : $"Applied migrations {string.Join(", ", applied)}.");
        }, ct, migrateFirst: false));

        var email = new Option<string>("--email") { Description = "The user's email address", Required = true };
        var password = new Option<string>("--password") { Description = "At least 12 characters; prefer --password-stdin in scripts" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var admin = new Option<bool>("--admin") { Description = "Server administrator: manages users and every new organization" };
        var createUser = new Command("create-user", "Create a user") { email, password, passwordStdin, admin, json };
        createUser.SetAction((parse, ct) => WithServicesAsync(parse, async (services, token) =>
        {
            var secret = parse.GetValue(passwordStdin) ? Console.In.ReadLine() ?? string.Empty : parse.GetValue(password);
            if (string.IsNullOrEmpty(secret))
            {
                throw new AccountException("Give a password with --password or --password-stdin.");
            }
            var user = await services.GetRequiredService<AccountService>().CreateUserAsync(parse.GetValue(email)!, secret, parse.GetValue(admin), token);
            return Print(parse.GetValue(json), new { userId = user.Id, email = user.Email, isAdmin = user.IsAdmin }, $"Created user {user.Email} (id {user.Id}).");
        }, ct));

        var org = new Option<string>("--org") { Description = "Organization name; created if it does not exist", Required = true };
        var name = new Option<string>("--name") { Description = "Project name", Required = true };
        var owner = new Option<string?>("--owner") { Description = "Email of a user to make owner of the organization" };
        var createProject = new Command("create-project", "Create a project and print its key and DSN") { org, name, owner, json };
        createProject.SetAction((parse, ct) => WithServicesAsync(parse, async (services, token) =>
        {
            var created = await services.GetRequiredService<AccountService>().CreateProjectAsync(parse.GetValue(org)!, parse.GetValue(name)!, parse.GetValue(owner), token);
            return Print(parse.GetValue(json), new
            {
                organizationId = created.Organization.Id,
                organization = created.Organization.Slug,
                projectId = created.Project.Id,
                project = created.Project.Slug,
                publicKey = created.Key.PublicKey,
                dsn = created.Dsn,
            }, $"Project {created.Organization.Slug}/{created.Project.Slug} (id {created.Project.Id})\nKey: {created.Key.PublicKey}\nDSN: {created.Dsn}");
        }, ct));

        var tokenName = new Option<string>("--token-name") { Description = "A label to recognise the token by", DefaultValueFactory = _ => "cli" };
        var createToken = new Command("create-token", "Create an API token for a user; it is shown once") { email, tokenName, json };
        createToken.SetAction((parse, ct) => WithServicesAsync(parse, async (services, token) =>
        {
            var apiToken = await services.GetRequiredService<AccountService>().CreateApiTokenAsync(parse.GetValue(email)!, parse.GetValue(tokenName)!, token);
            return Print(parse.GetValue(json), new { token = apiToken }, $"{apiToken}\nStore it now: it is not shown again.");
        }, ct));

        root.Subcommands.Add(migrate);
        root.Subcommands.Add(createUser);
        root.Subcommands.Add(createProject);
        root.Subcommands.Add(createToken);
        foreach (var command in KeyCommands.Create(json))
        {
            root.Subcommands.Add(command);
        }
        root.Subcommands.Add(TailCommand.Create());
        root.Subcommands.Add(Retention.ArchiveCommand.Create());
        root.Subcommands.Add(new Command("serve", "Start the server (the default)"));
        foreach (var command in root.Subcommands)
        {
            // Unknown --Key=value arguments are configuration, as for the server (--Faultline:Storage:Provider=postgres).
            command.TreatUnmatchedTokensAsErrors = false;
        }
        return await root.Parse(args).InvokeAsync();
    }

    /// <summary>Builds the same configuration and store as the server, migrates, and runs one command.</summary>
    internal static async Task<int> WithServicesAsync(ParseResult parse, Func<IServiceProvider, CancellationToken, Task<int>> command, CancellationToken cancellationToken, bool migrateFirst = true)
    {
        var builder = Host.CreateApplicationBuilder(parse.UnmatchedTokens.ToArray());
        builder.AddStorage();
        builder.AddAccounts();
        using var host = builder.Build();
        try
        {
            if (migrateFirst)
            {
                await host.Services.GetRequiredService<ISchemaMigrator>().MigrateAsync(cancellationToken);
            }
            return await command(host.Services, cancellationToken);
        }
        catch (AccountException e)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 2;
        }
    }

    internal static int Print(bool asJson, object value, string text)
    {
        Console.WriteLine(asJson ? JsonSerializer.Serialize(value, Json) : text);
        return 0;
    }
}
