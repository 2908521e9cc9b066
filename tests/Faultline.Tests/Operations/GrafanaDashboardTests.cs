using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Faultline.Tests.Infrastructure;
using Npgsql;
using YamlDotNet.RepresentationModel;

namespace Faultline.Tests.Operations;

/// <summary>
/// deploy/grafana: the provisioning files parse and agree with the dashboards and compose.yaml; every
/// SQL query runs (Grafana's macros and variables substituted) against a seeded PostgreSQL as the
/// read-only grafana_reader login; every PromQL expression runs against a real Prometheus scraping Faultline.
/// </summary>
public sealed partial class GrafanaDashboardTests(ScrapedFaultline scraped) : IClassFixture<ScrapedFaultline>
{
    private static readonly string GrafanaDirectory = Path.Combine(RepositoryFiles.Root, "deploy", "grafana");
    private static readonly string[] TimeSeriesColumns = ["time", "metric", "value"];

    /// <summary>The columns each SQL panel must return, in order.</summary>
    private static readonly Dictionary<string, string[]> ExpectedColumns = new()
    {
        ["Events by project"] = TimeSeriesColumns,
        ["Events by level"] = TimeSeriesColumns,
        ["Events by release"] = TimeSeriesColumns,
        ["Events by environment"] = TimeSeriesColumns,
        ["Top issues"] = ["issue", "project", "title", "culprit", "level", "status", "events", "last_seen", "first_seen"],
        ["New issues per day"] = ["time", "new issues"],
    };

    private static IEnumerable<(string File, JsonElement Dashboard)> Dashboards() =>
        Directory.GetFiles(Path.Combine(GrafanaDirectory, "dashboards"), "*.json").Order()
            .Select(f => (Path.GetFileName(f), JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(f))));

    private static IEnumerable<(string Panel, JsonElement Target)> Targets(string datasourceUid) =>
        from d in Dashboards()
        from panel in d.Dashboard.GetProperty("panels").EnumerateArray()
        from target in panel.GetProperty("targets").EnumerateArray()
        where target.GetProperty("datasource").GetProperty("uid").GetString() == datasourceUid
        select (panel.GetProperty("title").GetString()!, target);

    private static IEnumerable<JsonElement> Variables(string datasourceUid) =>
        from d in Dashboards()
        from variable in d.Dashboard.GetProperty("templating").GetProperty("list").EnumerateArray()
        where variable.TryGetProperty("datasource", out var source) && source.GetProperty("uid").GetString() == datasourceUid
        select variable;

    [Fact]
    public void Provisioning_files_parse_and_every_panel_uses_a_provisioned_data_source()
    {
        var datasources = LoadYaml(Path.Combine(GrafanaDirectory, "provisioning", "datasources", "faultline.yaml"));
        Assert.Equal("1", Scalar(datasources, "apiVersion"));
        var sources = ((YamlSequenceNode)datasources.Children["datasources"]).Children.Cast<YamlMappingNode>().ToList();
        var uids = sources.ToDictionary(s => Scalar(s, "uid")!, s => Scalar(s, "type")!);
        Assert.Equal("prometheus", uids["faultline-prometheus"]);
        Assert.Equal("grafana-postgresql-datasource", uids["faultline-postgres"]);
        var postgres = sources.Single(s => Scalar(s, "uid") == "faultline-postgres");
        Assert.Equal("grafana_reader", Scalar(postgres, "user"));
        Assert.Equal("$GRAFANA_DB_PASSWORD", Scalar((YamlMappingNode)postgres.Children["secureJsonData"], "password"));

        var provider = (YamlMappingNode)((YamlSequenceNode)LoadYaml(Path.Combine(GrafanaDirectory, "provisioning", "dashboards", "faultline.yaml")).Children["providers"]).Children.Single();
        var dashboardPath = Scalar((YamlMappingNode)provider.Children["options"], "path");

        // compose.yaml mounts the provisioning and the dashboards where the provider looks, and gives Grafana the password.
        var compose = File.ReadAllText(Path.Combine(RepositoryFiles.Root, "deploy", "compose.yaml"));
        Assert.Contains("./grafana/provisioning:/etc/grafana/provisioning:ro", compose);
        Assert.Contains($"./grafana/dashboards:{dashboardPath}:ro", compose);
        var grafana = (YamlMappingNode)((YamlMappingNode)LoadYaml(Path.Combine(RepositoryFiles.Root, "deploy", "compose.yaml")).Children["services"]).Children["grafana"];
        Assert.Contains("GRAFANA_DB_PASSWORD", ((YamlMappingNode)grafana.Children["environment"]).Children.Keys.Select(k => ((YamlScalarNode)k).Value));

        var dashboards = Dashboards().ToList();
        Assert.Equal(["faultline-errors.json", "faultline-service.json"], dashboards.Select(d => d.File));
        Assert.Equal(dashboards.Count, dashboards.Select(d => d.Dashboard.GetProperty("uid").GetString()).Distinct().Count());
        foreach (var (file, dashboard) in dashboards)
        {
            var panels = dashboard.GetProperty("panels").EnumerateArray().ToList();
            Assert.True(panels.Count > 0, file);
            Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
            foreach (var panel in panels)
            {
                Assert.Contains(panel.GetProperty("datasource").GetProperty("uid").GetString()!, uids.Keys);
                Assert.All(panel.GetProperty("targets").EnumerateArray(), t => Assert.Contains(t.GetProperty("datasource").GetProperty("uid").GetString()!, uids.Keys));
            }
        }
        // Every SQL panel has its expected shape listed here, so a new panel cannot go untested.
        Assert.Equal(ExpectedColumns.Keys.Order(), Targets("faultline-postgres").Select(t => t.Panel).Order());
    }

    [Theory]
    [InlineData("all")]
    [InlineData("one of each")]
    public async Task Every_sql_query_runs_as_grafana_reader_and_returns_the_expected_columns(string selection)
    {
        await using var reader = await ReaderDataSourceAsync();
        var projects = await RowsAsync(reader, Substitute(VariableQuery("project"), AllSelected([])));
        Assert.True(projects.Count >= 2, "the project variable lists the seeded projects");
        var projectIds = projects.Select(r => Convert.ToString(r[0], CultureInfo.InvariantCulture)!).ToList();
        var values = selection == "all"
            ? AllSelected(projectIds)
            // The shop project has an error in production on release 1.0.0 (ScrapedFaultline's seed).
            : new Dictionary<string, string> { ["project"] = Quote(Convert.ToString(projects.Single(r => ((string)r[1]).StartsWith("shop-", StringComparison.Ordinal))[0], CultureInfo.InvariantCulture)!), ["level"] = Quote("3"), ["environment"] = Quote("production"), ["release"] = Quote("1.0.0") };

        foreach (var variable in Variables("faultline-postgres"))
        {
            var rows = await RowsAsync(reader, Substitute(variable.GetProperty("query").GetString()!, values));
            Assert.True(rows.Count > 0, $"variable {variable.GetProperty("name")} lists nothing");
        }
        foreach (var (panel, target) in Targets("faultline-postgres"))
        {
            var sql = Substitute(target.GetProperty("rawSql").GetString()!, values);
            await using var command = reader.CreateCommand(sql);
            await using var result = await command.ExecuteReaderAsync();
            var columns = Enumerable.Range(0, result.FieldCount).Select(result.GetName).ToArray();
            Assert.True(ExpectedColumns[panel].SequenceEqual(columns), $"{panel}: columns {string.Join(", ", columns)}");
            var rows = 0;
            while (await result.ReadAsync())
            {
                rows++;
                if (target.GetProperty("format").GetString() == "time_series")
                {
                    // Grafana reads an epoch-seconds number as the time; values must be numbers, metric names text.
                    Assert.IsType<decimal>(result.GetValue(0));
                    Assert.IsType<long>(result.GetValue(columns.Length - 1));
                }
            }
            Assert.True(rows > 0, $"{panel} returned no rows for the seeded events ({selection})");
        }
    }

    [Fact]
    public async Task Every_promql_expression_is_accepted_by_prometheus_and_returns_series()
    {
        // Prometheus needs two scrapes for rate(); wait until the ingest counter is there.
        await scraped.Prometheus.WaitForValueAsync("""sum(faultline_events_accepted_total{job="faultline"})""", v => v >= ScrapedFaultline.AcceptedEvents, TimeSpan.FromSeconds(120));
        var expressions = Targets("faultline-prometheus").Select(t => (Panel: t.Panel, Expr: t.Target.GetProperty("expr").GetString()!))
            .Concat(Variables("faultline-prometheus").Select(v => (Panel: $"variable {v.GetProperty("name")}", Expr: LabelValuesAsQuery(v.GetProperty("query").GetProperty("query").GetString()!))))
            .ToList();
        Assert.True(expressions.Count >= 10);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        var empty = expressions;
        while (true)
        {
            var stillEmpty = new List<(string Panel, string Expr)>();
            foreach (var (panel, expr) in empty)
            {
                var query = expr.Replace("$__rate_interval", "1m").Replace("$job", "faultline").Replace("$instance", ".*");
                var answer = await scraped.Prometheus.QueryAsync(query);
                Assert.True(answer.GetProperty("status").GetString() == "success", $"{panel}: `{query}` failed: {answer}");
                if (answer.GetProperty("data").GetProperty("result").GetArrayLength() == 0)
                {
                    stillEmpty.Add((panel, query));
                }
            }
            empty = stillEmpty;
            if (empty.Count == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(1000);
        }
        Assert.True(empty.Count == 0, "No series for: " + string.Join("; ", empty.Select(e => $"{e.Panel}: {e.Expr}"))
            + $". Targets: {(empty.Count == 0 ? "" : await scraped.Prometheus.TargetsAsync())}"
            + $". Samples: {(empty.Count == 0 ? "" : (await scraped.Prometheus.QueryAsync("faultline_events_accepted_total[1m]")).ToString())}");
    }

    // --- Grafana's substitutions, as its PostgreSQL data source does them ----------------------

    private static readonly DateTimeOffset From = DateTimeOffset.UtcNow.AddDays(-7);
    private static readonly DateTimeOffset To = DateTimeOffset.UtcNow.AddHours(1);

    private static string VariableQuery(string name) =>
        Variables("faultline-postgres").Single(v => v.GetProperty("name").GetString() == name).GetProperty("query").GetString()!;

    /// <summary>"All" for every variable: projects and levels list every value, environment and release use their allValue.</summary>
    private static Dictionary<string, string> AllSelected(IReadOnlyList<string> projectIds) => new()
    {
        ["project"] = projectIds.Count == 0 ? "NULL" : string.Join(",", projectIds.Select(Quote)),
        ["level"] = string.Join(",", new[] { "0", "1", "2", "3", "4" }.Select(Quote)),
        ["environment"] = "'__all'",
        ["release"] = "'__all'",
    };

    /// <summary>Grafana quotes each selected value of a multi-value variable for SQL.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "''") + "'";

    private static string Substitute(string sql, IReadOnlyDictionary<string, string> variables)
    {
        var from = From.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var to = To.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        sql = TimeGroupAlias().Replace(sql, m =>
        {
            var seconds = Seconds(m.Groups[2].Value.Trim().Trim('\''));
            return $"floor(extract(epoch from {m.Groups[1].Value.Trim()})/{seconds})*{seconds} AS \"time\"";
        });
        sql = TimeFilter().Replace(sql, m => $"{m.Groups[1].Value.Trim()} BETWEEN '{from}' AND '{to}'");
        foreach (var (name, value) in variables)
        {
            sql = Regex.Replace(sql, $@"\${name}\b", value);
        }
        Assert.DoesNotContain("$", sql);
        return sql;
    }

    /// <summary>Grafana's interval strings; $__interval is what a 7-day range on a wide panel gives (about 1h).</summary>
    private static long Seconds(string interval) => interval switch
    {
        "$__interval" => 3600,
        _ when interval.EndsWith('d') => long.Parse(interval[..^1], CultureInfo.InvariantCulture) * 86400,
        _ when interval.EndsWith('h') => long.Parse(interval[..^1], CultureInfo.InvariantCulture) * 3600,
        _ when interval.EndsWith('m') => long.Parse(interval[..^1], CultureInfo.InvariantCulture) * 60,
        _ => throw new InvalidOperationException($"interval {interval}"),
    };

    /// <summary>label_values(metric, label) is Grafana's, not PromQL: ask Prometheus the equivalent.</summary>
    private static string LabelValuesAsQuery(string query)
    {
        var match = LabelValues().Match(query);
        Assert.True(match.Success, query);
        return $"count by ({match.Groups[2].Value.Trim()}) ({match.Groups[1].Value.Trim()})";
    }

    [GeneratedRegex(@"\$__timeGroupAlias\(([^,]+),([^)]+)\)")]
    private static partial Regex TimeGroupAlias();

    [GeneratedRegex(@"\$__timeFilter\(([^)]+)\)")]
    private static partial Regex TimeFilter();

    [GeneratedRegex(@"^label_values\((.+),\s*(\w+)\)$")]
    private static partial Regex LabelValues();

    // --- The read-only login --------------------------------------------------------------------

    /// <summary>Runs deploy/grafana/grafana-reader.sql with psql as compose does, then connects as grafana_reader.</summary>
    private async Task<NpgsqlDataSource> ReaderDataSourceAsync()
    {
        var owner = new NpgsqlConnectionStringBuilder(scraped.Server.Database.ConnectionString);
        var psql = new ProcessStartInfo("psql") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-h", owner.Host!, "-p", owner.Port.ToString(CultureInfo.InvariantCulture), "-U", owner.Username!, "-d", owner.Database!,
            "-v", "ON_ERROR_STOP=1", "-v", "pw=grafana-test-password", "-f", Path.Combine(GrafanaDirectory, "grafana-reader.sql") })
        {
            psql.ArgumentList.Add(argument);
        }
        using var process = Process.Start(psql)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"grafana-reader.sql failed: {await error}");
        return NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(owner.ConnectionString) { Username = "grafana_reader", Password = "grafana-test-password" }.ConnectionString);
    }

    private static async Task<List<object[]>> RowsAsync(NpgsqlDataSource source, string sql)
    {
        await using var command = source.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    private static YamlMappingNode LoadYaml(string path)
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(path);
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? (value as YamlScalarNode)?.Value : null;
}
