using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Faultline.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Faultline.Tests.Operations;

/// <summary>
/// The packaging files (Dockerfile, deploy/compose.yaml, deploy/prometheus.yml, the workflows) checked
/// as far as this machine allows: no image registry is reachable, so no image is built or run here.
/// What can run does: the release's self-contained single-file binary is published and started, and
/// the health checks of the Dockerfile and compose.yaml are executed against it.
/// </summary>
public sealed partial class PackagingTests
{
    private static readonly string Root = RepositoryFiles.Root;
    private static readonly string ComposePath = Path.Combine(Root, "deploy", "compose.yaml");
    private static readonly string EnvExamplePath = Path.Combine(Root, "deploy", ".env.example");

    // --- deploy/compose.yaml -------------------------------------------------------------------

    [Fact]
    public void Compose_file_parses_and_every_depends_on_names_a_service_with_a_health_check()
    {
        var services = ComposeServices();

        Assert.Contains("faultline", services.Keys);
        Assert.Contains("postgres", services.Keys);
        Assert.Contains("redis", services.Keys);
        Assert.Contains("minio", services.Keys);
        Assert.Contains("prometheus", services.Keys);
        Assert.Contains("grafana", services.Keys);
        foreach (var (name, service) in services)
        {
            Assert.True(Child(service, "image") is not null || Child(service, "build") is not null, $"{name} has neither image nor build");
            if (!IsOneShot(service))
            {
                var test = Assert.IsType<YamlSequenceNode>(Child(Child(service, "healthcheck"), "test"), exactMatch: false);
                Assert.True(test.Children.Count > 1, $"{name} has an empty health check");
            }
            if (Child(service, "depends_on") is YamlMappingNode dependsOn)
            {
                foreach (var (key, condition) in dependsOn.Children)
                {
                    var dependency = ((YamlScalarNode)key).Value!;
                    Assert.True(services.ContainsKey(dependency), $"{name} depends on {dependency}, which is not a service");
                    // A long-running service must be healthy; a one-shot job (restart: "no") must have finished.
                    var expected = IsOneShot(services[dependency]) ? "service_completed_successfully" : "service_healthy";
                    Assert.Equal(expected, Scalar(Child(condition, "condition")));
                }
            }
            else
            {
                Assert.Null(Child(service, "depends_on")); // the list form has no conditions: use the mapping
            }
        }
    }

    [Fact]
    public void Every_variable_the_compose_file_interpolates_is_listed_in_the_env_example()
    {
        var listed = EnvExampleVariables();

        var used = Interpolations(File.ReadAllText(ComposePath)).Select(i => i.Name).Distinct().ToList();

        Assert.NotEmpty(used);
        Assert.All(used, name => Assert.True(listed.ContainsKey(name), $"compose.yaml uses ${{{name}}} but deploy/.env.example does not list it"));
        Assert.All(listed.Keys, name => Assert.True(used.Contains(name), $"deploy/.env.example lists {name}, which compose.yaml does not use"));
    }

    [Fact]
    public void No_password_or_credential_has_a_default()
    {
        var compose = File.ReadAllText(ComposePath);

        var secrets = Interpolations(compose).Where(i => IsSecretName(i.Name)).ToList();

        Assert.Contains(secrets, i => i.Name == "POSTGRES_PASSWORD");
        Assert.Contains(secrets, i => i.Name == "MINIO_ROOT_PASSWORD");
        Assert.Contains(secrets, i => i.Name == "GRAFANA_ADMIN_PASSWORD");
        // ${NAME:?message} stops compose when NAME is unset or empty; ${NAME}, ${NAME:-x} and ${NAME-x} would start with a blank or known password.
        Assert.All(secrets, i => Assert.True(i.Operator == ":?", $"${{{i.Name}}} must be written ${{{i.Name}:?message}}, not with '{i.Operator}'"));
        foreach (var (name, service) in ComposeServices())
        {
            foreach (var (key, value) in EnvironmentOf(service))
            {
                if (IsSecretName(key))
                {
                    Assert.Matches(SecretValue(), value);
                }
                foreach (Match password in ConnectionStringPassword().Matches(value))
                {
                    Assert.True(SecretValue().IsMatch(password.Groups[1].Value), $"{name}.{key} has a literal password");
                }
            }
        }
        var example = EnvExampleVariables();
        Assert.All(example.Where(e => IsSecretName(e.Key)), e => Assert.True(e.Value.Length == 0, $"deploy/.env.example gives {e.Key} a value"));
    }

    [Fact]
    public void The_faultline_service_uses_the_compose_postgres_through_a_connection_string_built_from_the_env()
    {
        var services = ComposeServices();
        var environment = EnvironmentOf(services["faultline"]);
        var postgres = EnvironmentOf(services["postgres"]);

        Assert.Equal("postgres", environment["Faultline__Storage__Provider"]);
        var connection = ConnectionStringPairs(environment["Faultline__Storage__Postgres__ConnectionString"]);
        Assert.Equal("postgres", connection["Host"]);
        Assert.Equal(postgres["POSTGRES_DB"], connection["Database"]);
        Assert.Equal(postgres["POSTGRES_USER"], connection["Username"]);
        Assert.Equal(postgres["POSTGRES_PASSWORD"], connection["Password"]);
        Assert.Contains("${POSTGRES_PASSWORD:?", connection["Password"], StringComparison.Ordinal);
        Assert.Equal("service_healthy", Scalar(Child(Child(Child(services["faultline"], "depends_on"), "postgres"), "condition")));
        // The published port maps to the port the image listens on.
        var ports = Assert.IsType<YamlSequenceNode>(Child(services["faultline"], "ports"), exactMatch: false);
        Assert.Contains(ports.Children, p => Scalar(p)!.EndsWith(":" + DockerfilePort(), StringComparison.Ordinal));
    }

    [Fact]
    public void The_faultline_service_uses_the_compose_redis_with_its_password_from_the_env()
    {
        var services = ComposeServices();
        var environment = EnvironmentOf(services["faultline"]);
        var redis = EnvironmentOf(services["redis"]);

        var configuration = StackExchange.Redis.ConfigurationOptions.Parse(environment["Faultline__Redis__ConnectionString"]);
        Assert.Equal("Unspecified/redis:6379", Assert.Single(configuration.EndPoints).ToString());
        Assert.Null(configuration.Password); // the password is its own setting, from deploy/.env
        Assert.Equal(redis["REDISCLI_AUTH"], environment["Faultline__Redis__Password"]);
        Assert.Contains("${REDIS_PASSWORD:?", environment["Faultline__Redis__Password"], StringComparison.Ordinal);
        Assert.Contains("${REDIS_PASSWORD:?", string.Join(' ', Assert.IsType<YamlSequenceNode>(Child(services["redis"], "command"), exactMatch: false).Children.Select(Scalar)), StringComparison.Ordinal);
        Assert.Equal("service_healthy", Scalar(Child(Child(Child(services["faultline"], "depends_on"), "redis"), "condition")));
    }

    // --- Dockerfile ----------------------------------------------------------------------------

    [Fact]
    public void Dockerfile_runs_as_a_non_root_user_exposes_the_server_port_and_keeps_data_in_a_volume()
    {
        var instructions = DockerfileInstructions();
        var stages = SplitStages(instructions);
        var runtime = stages[^1];

        Assert.True(stages.Count >= 2, "the Dockerfile should be a multi-stage build");
        Assert.Contains("mcr.microsoft.com/dotnet/sdk:10.0", stages[0][0].Arguments, StringComparison.Ordinal);
        Assert.Contains("mcr.microsoft.com/dotnet/aspnet:10.0", runtime[0].Arguments, StringComparison.Ordinal);

        var user = runtime.Last(i => i.Keyword == "USER").Arguments.Split(':')[0];
        Assert.DoesNotContain(user, new[] { "root", "0" });
        Assert.True(runtime.FindLastIndex(i => i.Keyword == "USER") > runtime.FindLastIndex(i => i.Keyword == "RUN"), "a RUN after USER would run as the non-root user; keep USER after the setup");

        var environment = DockerfileEnvironment(runtime);
        var port = DockerfilePort();
        Assert.Equal($"http://0.0.0.0:{port}", environment["Urls"]);
        Assert.Equal("8100", port); // docs/configuration.md and compose.yaml use 8100

        var volume = runtime.Single(i => i.Keyword == "VOLUME").Arguments;
        Assert.Contains("\"/data\"", volume, StringComparison.Ordinal);
        Assert.StartsWith("/data/", environment["Faultline__Storage__Sqlite__Path"], StringComparison.Ordinal);
        // The local archive too: its default (data/archive under /app) is neither persistent nor writable by the app user.
        Assert.StartsWith("/data/", environment["Faultline__Retention__Archive__LocalPath"], StringComparison.Ordinal);

        var healthcheck = runtime.Single(i => i.Keyword == "HEALTHCHECK").Arguments;
        Assert.Contains($"/dev/tcp/127.0.0.1/{port}", healthcheck, StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerfile_restores_from_the_build_files_first_and_publishes_src_Faultline()
    {
        var build = SplitStages(DockerfileInstructions())[0];

        var copies = build.Where(i => i.Keyword == "COPY").ToList();
        var restore = build.FindIndex(i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet restore", StringComparison.Ordinal));
        var publish = build.FindIndex(i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish", StringComparison.Ordinal));
        Assert.True(restore > 0 && publish > restore, "dotnet restore must run before dotnet publish");
        Assert.Matches(@"^dotnet publish src/Faultline(\s|$)", build[publish].Arguments);
        Assert.Contains("-c Release", build[publish].Arguments, StringComparison.Ordinal);
        Assert.Contains("-o /app", build[publish].Arguments, StringComparison.Ordinal);

        // Before restore only the files that decide the package graph are copied, and each exists.
        var beforeRestore = copies.Where(c => build.IndexOf(c) < restore).SelectMany(c => c.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]).ToList();
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig", "src/Faultline/Faultline.csproj" })
        {
            Assert.Contains(file, beforeRestore);
        }
        Assert.All(beforeRestore, file => Assert.True(File.Exists(Path.Combine(Root, file)), $"the Dockerfile copies {file}, which does not exist"));

        // The entry point runs the assembly the project builds.
        var assembly = XDocument.Load(Path.Combine(Root, "src", "Faultline", "Faultline.csproj")).Descendants("AssemblyName").Single().Value;
        var entryPoint = SplitStages(DockerfileInstructions())[^1].Single(i => i.Keyword == "ENTRYPOINT").Arguments;
        Assert.Equal(["dotnet", $"/app/{assembly}.dll"], JsonSerializer.Deserialize<string[]>(entryPoint)!);
    }

    [Fact]
    public void Dockerignore_keeps_build_output_local_data_and_git_out_of_the_context()
    {
        var patterns = File.ReadAllLines(Path.Combine(Root, ".dockerignore"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        foreach (var required in new[] { ".git", "**/bin", "**/obj", "**/node_modules", "bench/.out", "sdk/js/dist", "data" })
        {
            Assert.Contains(required, patterns);
        }
        Assert.DoesNotContain(patterns, p => p is "src" or "src/Faultline" or "*" or "Directory.Packages.props");
    }

    // --- deploy/prometheus.yml -----------------------------------------------------------------

    [Fact]
    public async Task Prometheus_config_scrapes_the_faultline_service()
    {
        var path = Path.Combine(Root, "deploy", "prometheus.yml");
        var config = LoadYaml(path);

        var jobs = Assert.IsType<YamlSequenceNode>(Child(config, "scrape_configs"), exactMatch: false);
        var faultline = Assert.Single(jobs.Children, j => Scalar(Child(j, "job_name")) == "faultline");
        Assert.Equal("/metrics", Scalar(Child(faultline, "metrics_path")) ?? "/metrics");
        var staticConfigs = Assert.IsType<YamlSequenceNode>(Child(faultline, "static_configs"), exactMatch: false);
        var targets = Assert.IsType<YamlSequenceNode>(Child(staticConfigs.Children[0], "targets"), exactMatch: false);
        Assert.Contains(targets.Children, t => Scalar(t) == $"faultline:{DockerfilePort()}");
        Assert.True(ComposeServices().ContainsKey("faultline"));

        // promtool is not installed on the test machines; where it is, it checks the whole file.
        var promtool = FindOnPath("promtool");
        if (promtool is not null)
        {
            var (exitCode, output) = await RunToEndAsync(promtool, ["check", "config", path], TimeSpan.FromMinutes(1));
            Assert.True(exitCode == 0, output);
        }
    }

    // --- .github/workflows ---------------------------------------------------------------------

    [Fact]
    public void Workflows_run_test_sh_and_release_the_image_and_both_binaries()
    {
        var ci = File.ReadAllText(Path.Combine(Root, ".github", "workflows", "ci.yml"));
        var release = File.ReadAllText(Path.Combine(Root, ".github", "workflows", "release.yml"));
        LoadYaml(Path.Combine(Root, ".github", "workflows", "ci.yml"));
        var releaseYaml = LoadYaml(Path.Combine(Root, ".github", "workflows", "release.yml"));

        Assert.Contains("./test.sh", ci, StringComparison.Ordinal);
        Assert.Contains("docker/build-push-action", release, StringComparison.Ordinal);
        Assert.Contains("ghcr.io", release, StringComparison.Ordinal);
        var rids = (YamlSequenceNode)Child(Child(Child(Child(Child(releaseYaml, "jobs"), "binaries"), "strategy"), "matrix"), "rid")!;
        Assert.Equal(["linux-x64", "linux-arm64"], rids.Children.Select(Scalar));
        Assert.Matches(@"dotnet publish src/Faultline -c Release -r \$\{\{ matrix\.rid \}\} --self-contained\s*\\?\s*-p:PublishSingleFile=true", release);
    }

    // --- Helpers -------------------------------------------------------------------------------

    private sealed record Instruction(string Keyword, string Arguments);

    private sealed record Interpolation(string Name, string Operator);

    private static YamlNode LoadYaml(string path)
    {
        using var reader = new StreamReader(path);
        var stream = new YamlStream();
        stream.Load(reader);
        return Assert.Single(stream.Documents).RootNode;
    }

    private static Dictionary<string, YamlNode> ComposeServices() =>
        ((YamlMappingNode)Child(LoadYaml(ComposePath), "services")!).Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => c.Value);

    private static YamlNode? Child(YamlNode? node, string key) => node switch
    {
        YamlMappingNode mapping => mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null,
        _ => null,
    };

    private static string? Scalar(YamlNode? node) => (node as YamlScalarNode)?.Value;

    /// <summary>A job that runs once and exits (restart: "no"), such as grafana-reader: it has no health check.</summary>
    private static bool IsOneShot(YamlNode service) => Scalar(Child(service, "restart")) == "no";

    /// <summary>A service's environment, in either of compose's forms (mapping or KEY=value list).</summary>
    private static Dictionary<string, string> EnvironmentOf(YamlNode service) => Child(service, "environment") switch
    {
        YamlMappingNode mapping => mapping.Children.ToDictionary(c => Scalar(c.Key)!, c => Scalar(c.Value) ?? ""),
        YamlSequenceNode list => list.Children.Select(c => Scalar(c)!.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""),
        _ => [],
    };

    /// <summary>Every ${NAME...} and $NAME compose interpolates (a doubled $$ is a literal dollar).</summary>
    private static List<Interpolation> Interpolations(string text)
    {
        var withoutComments = string.Join('\n', text.Split('\n').Select(l => l.TrimStart().StartsWith('#') ? "" : l));
        return [.. InterpolationPattern().Matches(withoutComments.Replace("$$", "", StringComparison.Ordinal))
            .Select(m => new Interpolation(m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["plain"].Value, m.Groups["op"].Value))];
    }

    private static bool IsSecretName(string name) =>
        name.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase) || name.Contains("SECRET", StringComparison.OrdinalIgnoreCase) ||
        name.Contains("ROOT_USER", StringComparison.OrdinalIgnoreCase) || name.Contains("REDISCLI_AUTH", StringComparison.OrdinalIgnoreCase);

    private static Dictionary<string, string> EnvExampleVariables() =>
        File.ReadAllLines(EnvExamplePath)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");

    private static Dictionary<string, string> ConnectionStringPairs(string value) =>
        value.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);

    /// <summary>Dockerfile instructions with continuation lines joined and comments dropped.</summary>
    private static List<Instruction> DockerfileInstructions()
    {
        var instructions = new List<Instruction>();
        var current = new StringBuilder();
        foreach (var raw in File.ReadAllLines(Path.Combine(Root, "Dockerfile")))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && current.Length == 0))
            {
                continue;
            }
            var continues = line.EndsWith('\\');
            current.Append(continues ? line[..^1] : line).Append(' ');
            if (!continues)
            {
                var text = current.ToString().Trim();
                current.Clear();
                if (text.Length == 0)
                {
                    continue;
                }
                var space = text.IndexOf(' ', StringComparison.Ordinal);
                instructions.Add(space < 0
                    ? new Instruction(text.ToUpperInvariant(), "")
                    : new Instruction(text[..space].ToUpperInvariant(), MultipleSpaces().Replace(text[(space + 1)..], " ").Trim()));
            }
        }
        return instructions;
    }

    private static List<List<Instruction>> SplitStages(List<Instruction> instructions)
    {
        var stages = new List<List<Instruction>>();
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM")
            {
                stages.Add([]);
            }
            if (stages.Count > 0)
            {
                stages[^1].Add(instruction);
            }
        }
        return stages;
    }

    /// <summary>ENV of a stage, in the KEY=value form (several per instruction).</summary>
    private static Dictionary<string, string> DockerfileEnvironment(List<Instruction> stage) =>
        stage.Where(i => i.Keyword == "ENV")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");

    /// <summary>The port the image's server listens on: EXPOSE, checked against the Urls it sets.</summary>
    private static string DockerfilePort()
    {
        var runtime = SplitStages(DockerfileInstructions())[^1];
        var exposed = runtime.Single(i => i.Keyword == "EXPOSE").Arguments.Split('/')[0];
        Assert.Equal(exposed, new Uri(DockerfileEnvironment(runtime)["Urls"]).Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return exposed;
    }

    private static string[] HealthCheckCommand(string arguments)
    {
        var cmd = arguments.IndexOf("CMD [", StringComparison.Ordinal);
        Assert.True(cmd >= 0, "HEALTHCHECK should use the exec form CMD [...]");
        return ["CMD", .. JsonSerializer.Deserialize<string[]>(arguments[(cmd + 4)..])!];
    }


    private static string Logged(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    [GeneratedRegex(@"\$(?:\{(?<braced>[A-Za-z_][A-Za-z0-9_]*)(?<op>:?[-?+])?[^}]*\}|(?<plain>[A-Za-z_][A-Za-z0-9_]*))")]
    private static partial Regex InterpolationPattern();

    /// <summary>A secret value is exactly an interpolation that refuses to be empty.</summary>
    [GeneratedRegex(@"^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}$")]
    private static partial Regex SecretValue();

    [GeneratedRegex(@"(?i)(?:^|;)\s*password\s*=\s*([^;]*)")]
    private static partial Regex ConnectionStringPassword();

    [GeneratedRegex(@"\s+")]
    private static partial Regex MultipleSpaces();
}

internal static class PackagingPathExtensions
{
    /// <summary>Creates the parent folder of a file path and returns the path.</summary>
    public static string CreateParent(this string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
