using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Faultline.Storage;

namespace Faultline.Retention;

/// <summary>
/// `faultline archive list|restore --project P [--from DATE --to DATE] [--json]` and
/// `faultline archive kept --project P [--json]` (issues whose events stay hot until reviewed): an administrator's
/// view of the archive, with the server's configuration and direct store access (like create-project).
/// </summary>
internal static class ArchiveCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var project = new Option<long>("--project") { Description = "Project id", Required = true };
        var from = new Option<string?>("--from") { Description = "First day, yyyy-MM-dd (UTC)" };
        var to = new Option<string?>("--to") { Description = "Last day, yyyy-MM-dd (UTC), included" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object for scripts" };

        var list = new Command("list", "List a project's archive objects (day, part, state, events, bytes)") { project, from, to, json };
        list.SetAction((parse, ct) => WithServicesAsync(parse, async (services, token) =>
        {
            var (first, last) = (ParseDay(parse.GetValue(from), "--from"), ParseDay(parse.GetValue(to), "--to"));
            var batches = await services.GetRequiredService<ArchiveRestore>().ListAsync(parse.GetValue(project), first, last, token);
            var objects = batches.Select(ArchiveObjectResponse.From).ToList();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { projectId = parse.GetValue(project), objects }, Json));
                return 0;
            }
            Console.WriteLine(objects.Count == 0 ? "No archive objects." : "day         part  state     events       bytes  key");
            foreach (var o in objects)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{o.Day:yyyy-MM-dd}  {o.Sequence,4}  {o.State,-8} {o.Events,7} {o.Bytes,11}  {o.ObjectKey}"));
            }
            return 0;
        }, ct));

        var restore = new Command("restore", "Bring a project's archived days back into searchable storage (marked restored)") { project, from, to, json };
        restore.SetAction((parse, ct) => WithServicesAsync(parse, async (services, token) =>
        {
            var first = ParseDay(parse.GetValue(from), "--from") ?? throw new UsageException("restore needs --from.");
            var last = ParseDay(parse.GetValue(to), "--to") ?? throw new UsageException("restore needs --to.");
            if (first > last)
            {
                throw new UsageException("--from is after --to.");
            }
            var report = await services.GetRequiredService<ArchiveRestore>().RestoreAsync(parse.GetValue(project), first, last, token);
            Console.WriteLine(parse.GetValue(json)
                ? JsonSerializer.Serialize(report, Json)
                : $"Restored {report.Restored} events from {report.Objects} archive objects ({report.AlreadyPresent} were already present, {report.ExpiredObjects} objects had expired).");
            return 0;
        }, ct));

        var kept = new Command("kept", "List a project's issues whose events stay hot until reviewed, with their events past hot retention") { project, json };
        kept.SetAction((parse, ct) => WithServicesAsync(parse, async (services, token) =>
        {
            var store = services.GetRequiredService<IRetentionStore>();
            var record = (await store.ListAllProjectsAsync(token)).FirstOrDefault(p => p.Id == parse.GetValue(project))
                ?? throw new UsageException($"There is no project {parse.GetValue(project)}.");
            var items = new List<KeptIssueResponse>();
            DateTimeOffset cutoff;
            long? after = null;
            while (true)
            {
                var page = await RetentionApi.KeptIssuesAsync(record, store, services.GetRequiredService<RetentionPolicies>(), services.GetRequiredService<TimeProvider>(), after, 200, token);
                items.AddRange(page.Items);
                cutoff = page.HotCutoff;
                if (page.NextCursor is null)
                {
                    break;
                }
                after = page.Items[^1].IssueId;
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { projectId = record.Id, hotCutoff = cutoff, items }, Json));
                return 0;
            }
            Console.WriteLine(items.Count == 0 ? "No issues are kept." : string.Create(CultureInfo.InvariantCulture, $"issue     held  reason               title  (held = events received before {cutoff:yyyy-MM-dd})"));
            foreach (var i in items)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i.IssueId,-8} {i.HeldEvents,6}  {i.Reason,-20} {i.Title}"));
            }
            return 0;
        }, ct));

        // Unknown --Key=value arguments are configuration, as for the server.
        list.TreatUnmatchedTokensAsErrors = false;
        restore.TreatUnmatchedTokensAsErrors = false;
        kept.TreatUnmatchedTokensAsErrors = false;
        return new Command("archive", "The event archive: list objects, restore days, issues kept hot") { list, restore, kept };
    }

    private static DateOnly? ParseDay(string? text, string option) =>
        text is null ? null
        : DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day
        : throw new UsageException($"{option} must be a date like 2026-01-31, not '{text}'.");

    private static async Task<int> WithServicesAsync(ParseResult parse, Func<IServiceProvider, CancellationToken, Task<int>> command, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(parse.UnmatchedTokens.ToArray());
        builder.AddStorage();
        builder.AddRetentionServices();
        using var host = builder.Build();
        try
        {
            await host.Services.GetRequiredService<ISchemaMigrator>().MigrateAsync(cancellationToken);
            return await command(host.Services, cancellationToken);
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 1;
        }
        catch (ArchiveUnavailableException e)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 2;
        }
    }

    private sealed class UsageException(string message) : Exception(message);
}
