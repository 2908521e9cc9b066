using System.Globalization;

namespace Faultline.Bench;

/// <summary>Where ingest traffic goes: the real pipeline, or the endpoint that reads and drops the body.</summary>
public enum IngestTarget
{
    Native,
    Discard,
    /// <summary>Sentry's envelope endpoint, bodies shaped and gzipped as the .NET SDK sends them.</summary>
    Sentry,
}

/// <summary>Command-line settings for every mode; each mode reads the ones it needs.</summary>
public sealed record BenchOptions
{
    public required string Mode { get; init; }
    public Uri Url { get; init; } = new("http://127.0.0.1:5000");
    public string Key { get; init; } = "";
    public IngestTarget Target { get; init; } = IngestTarget.Native;
    public int Concurrency { get; init; } = 64;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Events per request; 1 sends a single JSON object, more send a JSON array.</summary>
    public int Batch { get; init; } = 1;
    /// <summary>How many distinct errors (exception type + call site, or message) the events fall into.</summary>
    public int Distinct { get; init; } = 50;
    public bool Gzip { get; init; }
    /// <summary>Open-loop pacing in events per second; null runs closed-loop as fast as the server answers.</summary>
    public double? Rate { get; init; }
    /// <summary>Stop after this many events (seed mode); null runs for the duration.</summary>
    public long? Events { get; init; }
    /// <summary>Spread event timestamps uniformly over this many past days (0 = now).</summary>
    public double SpreadDays { get; init; }
    public int? ServerPid { get; init; }
    public bool Json { get; init; }
    /// <summary>Free text copied into the JSON line, e.g. the store name, so run.sh can tabulate it.</summary>
    public string Label { get; init; } = "";
    public int Seed { get; init; } = 42;
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    // query mode
    public string Token { get; init; } = "";
    public long Project { get; init; } = 1;
    public int Repetitions { get; init; } = 50;

    // table mode
    public string Input { get; init; } = "";
    public string Command { get; init; } = "";

    public const string Usage = """
        usage: faultline-bench <ingest|seed|query|table|sample> [options]

          ingest   load generator: closed loop (default) or open loop with --rate
          seed     post --events M events fast (batches of 500, concurrency 4, timestamps over 7 days)
          query    time the issue and event search endpoints (--token, --project)
          table    turn the JSON lines written by --json into a Markdown block (--input FILE)
          sample   print --events N (default 3) generated events, one per line, and their sizes

        common:   --url URL (http://127.0.0.1:5000)  --json  --label TEXT  --server-pid PID
        ingest:   --key KEY  --target native|discard|sentry  --concurrency 64  --duration 20  --warmup 5
                  --batch 1  --distinct 50  --gzip  --rate EVENTS_PER_S  --events M  --spread-days D
                  --seed 42  --timeout 30
        seed:     as ingest; defaults --events 1000000 --batch 500 --concurrency 4 --distinct 5000
                  --spread-days 7 --warmup 0
        query:    --token TOKEN  --project ID  --repetitions 50
        table:    --input FILE.jsonl  --command "text shown as the command line"
        """;

    /// <summary>Parses <c>mode --name value --flag ...</c>; throws <see cref="ArgumentException"/> with a readable message.</summary>
    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            throw new ArgumentException("missing mode");
        }

        var mode = args[0].ToLowerInvariant();
        if (mode is not ("ingest" or "seed" or "query" or "table" or "sample"))
        {
            throw new ArgumentException($"unknown mode '{args[0]}'");
        }

        var o = mode == "seed"
            ? new BenchOptions
            {
                Mode = mode,
                Events = 1_000_000,
                Batch = 500,
                Concurrency = 4,
                Distinct = 5000,
                SpreadDays = 7,
                Warmup = TimeSpan.Zero,
                Duration = TimeSpan.FromHours(6),
            }
            : new BenchOptions { Mode = mode };

        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            string Value()
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"{name} needs a value");
                }
                return args[++i];
            }

            o = name switch
            {
                "--url" => o with { Url = new Uri(Value().TrimEnd('/') + "/") },
                "--key" => o with { Key = Value() },
                "--target" => o with { Target = ParseTarget(Value()) },
                "--concurrency" => o with { Concurrency = PositiveInt(name, Value()) },
                "--duration" => o with { Duration = Seconds(name, Value()) },
                "--warmup" => o with { Warmup = Seconds(name, Value(), allowZero: true) },
                "--batch" => o with { Batch = PositiveInt(name, Value()) },
                "--distinct" => o with { Distinct = PositiveInt(name, Value()) },
                "--gzip" => o with { Gzip = true },
                "--rate" => o with { Rate = PositiveDouble(name, Value()) },
                "--events" => o with { Events = PositiveInt(name, Value()) },
                "--spread-days" => o with { SpreadDays = NonNegativeDouble(name, Value()) },
                "--server-pid" => o with { ServerPid = PositiveInt(name, Value()) },
                "--json" => o with { Json = true },
                "--label" => o with { Label = Value() },
                "--seed" => o with { Seed = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--timeout" => o with { RequestTimeout = Seconds(name, Value()) },
                "--token" => o with { Token = Value() },
                "--project" => o with { Project = PositiveInt(name, Value()) },
                "--repetitions" => o with { Repetitions = PositiveInt(name, Value()) },
                "--input" => o with { Input = Value() },
                "--command" => o with { Command = Value() },
                _ => throw new ArgumentException($"unknown option '{name}'"),
            };
        }

        if (o.Mode is "ingest" or "seed" && o.Key.Length == 0)
        {
            throw new ArgumentException("--key is required (the project's public key)");
        }
        if (o.Target == IngestTarget.Sentry && o.Batch != 1)
        {
            throw new ArgumentException("--target sentry sends one event per envelope, as the SDKs do: use --batch 1");
        }
        if (o.Mode == "query" && o.Token.Length == 0)
        {
            throw new ArgumentException("--token is required (an API token from 'faultline create-token')");
        }
        if (o.Mode == "table" && o.Input.Length == 0)
        {
            throw new ArgumentException("--input is required");
        }
        return o;
    }

    private static IngestTarget ParseTarget(string text) => text.ToLowerInvariant() switch
    {
        "native" => IngestTarget.Native,
        "discard" => IngestTarget.Discard,
        "sentry" => IngestTarget.Sentry,
        _ => throw new ArgumentException($"--target must be native, discard or sentry, not '{text}'"),
    };

    private static int PositiveInt(string name, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} must be a positive integer, not '{text}'");

    private static double PositiveDouble(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0
            ? d
            : throw new ArgumentException($"{name} must be a positive number, not '{text}'");

    private static double NonNegativeDouble(string name, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0
            ? d
            : throw new ArgumentException($"{name} must be zero or more, not '{text}'");

    private static TimeSpan Seconds(string name, string text, bool allowZero = false) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && (s > 0 || (allowZero && s == 0))
            ? TimeSpan.FromSeconds(s)
            : throw new ArgumentException($"{name} must be a number of seconds, not '{text}'");
}
