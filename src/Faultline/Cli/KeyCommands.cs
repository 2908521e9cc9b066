using System.CommandLine;
using Faultline.Accounts;
using Faultline.Storage;

namespace Faultline.Cli;

/// <summary>
/// `revoke-key` and `set-rate-limit`: the operator's side of the project settings page. They run
/// in their own process, so a running server notices within its key cache time (30 s).
/// </summary>
internal static class KeyCommands
{
    public static IEnumerable<Command> Create(Option<bool> json)
    {
        var key = new Option<string>("--key") { Description = "The project key (the 32 hex characters in the DSN)", Required = true };

        var revoke = new Command("revoke-key", "Revoke a project key; running servers refuse it within 30 s") { key, json };
        revoke.SetAction((parse, ct) => FaultlineCommandLine.WithServicesAsync(parse, async (services, token) =>
        {
            var found = await FindAsync(services, parse.GetValue(key)!, token);
            var revoked = await services.GetRequiredService<IAccountAdminStore>().RevokeProjectKeyAsync(found.ProjectId, found.Id, DateTimeOffset.UtcNow, token);
            return FaultlineCommandLine.Print(parse.GetValue(json), new { publicKey = revoked!.PublicKey, projectId = revoked.ProjectId, revokedAt = revoked.RevokedAt },
                $"Key {revoked.PublicKey} of project {revoked.ProjectId} is revoked.");
        }, ct));

        var rate = new Option<double?>("--events-per-second") { Description = $"The key's own limit ({OrganizationService.MinRateLimit} to {OrganizationService.MaxRateLimit})" };
        var useDefault = new Option<bool>("--default") { Description = "Use the server's default limit again" };
        var setRate = new Command("set-rate-limit", "Set a project key's rate limit in events per second") { key, rate, useDefault, json };
        setRate.SetAction((parse, ct) => FaultlineCommandLine.WithServicesAsync(parse, async (services, token) =>
        {
            var value = parse.GetValue(rate);
            if (value is null == !parse.GetValue(useDefault))
            {
                throw new AccountException("Give either --events-per-second N or --default.");
            }
            if (value is { } v && !(v >= OrganizationService.MinRateLimit && v <= OrganizationService.MaxRateLimit))
            {
                throw new AccountException($"--events-per-second must be between {OrganizationService.MinRateLimit} and {OrganizationService.MaxRateLimit}.");
            }
            var found = await FindAsync(services, parse.GetValue(key)!, token);
            var updated = await services.GetRequiredService<IAccountAdminStore>().SetProjectKeyRateLimitAsync(found.ProjectId, found.Id, value, token);
            return FaultlineCommandLine.Print(parse.GetValue(json), new { publicKey = updated!.PublicKey, projectId = updated.ProjectId, rateLimitPerSecond = updated.RateLimitPerSecond },
                $"Key {updated.PublicKey}: {(value is null ? "server default rate limit" : $"{value} events/s")}.");
        }, ct));

        return [revoke, setRate];
    }

    private static async Task<ProjectKeyRecord> FindAsync(IServiceProvider services, string publicKey, CancellationToken cancellationToken) =>
        await services.GetRequiredService<IAccountStore>().FindProjectKeyAsync(publicKey.Trim().ToLowerInvariant(), cancellationToken)
        ?? throw new AccountException($"No project key {publicKey}.");
}
