using System.Runtime.InteropServices;
using Faultline.Bench;

if (args.Length > 0 && args[0] == "syslog")
{
    using var cancelSyslog = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancelSyslog.Cancel(); };
    return await SyslogRunner.RunAsync(args, cancelSyslog.Token);
}

if (args.Length > 0 && args[0] == "alerts")
{
    using var cancelAlerts = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancelAlerts.Cancel(); };
    try
    {
        return await AlertsRunner.RunAsync(args, cancelAlerts.Token);
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
}

if (args.Length > 0 && args[0] is "pages" or "live")
{
    using var cancelDashboard = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancelDashboard.Cancel(); };
    return await DashboardRunner.RunAsync(args, cancelDashboard.Token);
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

// Ctrl-C and run.sh's TERM stop the run at once; the in-flight requests are abandoned.
using var cancel = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

// With --json stdout carries exactly one JSON line; the human summary goes to stderr.
var human = options.Json ? Console.Error : Console.Out;
try
{
    switch (options.Mode)
    {
        case "ingest" or "seed":
            var generator = new EventGenerator(options.Distinct, options.SpreadDays, options.Seed);
            var ingest = await new IngestRunner(options, generator).RunAsync(cancel.Token);
            Report.PrintHuman(human, ingest, generator);
            if (options.Json)
            {
                Console.WriteLine(Report.ToJson(ingest));
            }
            return ingest.Requests > 0 && ingest.Errors < ingest.Requests ? 0 : 1;

        case "query":
            var query = await new QueryRunner(options).RunAsync(cancel.Token);
            Report.PrintHuman(human, query);
            if (options.Json)
            {
                Console.WriteLine(Report.ToJson(query));
            }
            return query.Queries.All(q => q.Statuses.Keys.All(k => k == "200")) ? 0 : 1;

        case "sample":
            var sampler = new EventGenerator(options.Distinct, options.SpreadDays, options.Seed);
            var random = new Random(options.Seed);
            for (var i = 0; i < (options.Events ?? 3); i++)
            {
                Console.WriteLine(sampler.Sample(random));
            }
            Console.Error.WriteLine($"{sampler.TemplateCount} templates, {sampler.MinEventBytes}-{sampler.MaxEventBytes} bytes, avg {sampler.AverageEventBytes:0}");
            return 0;

        default:
            Console.Write(Report.MarkdownTable(File.ReadLines(options.Input), options.Command));
            return 0;
    }
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
catch (HttpRequestException e)
{
    Console.Error.WriteLine($"error: cannot reach {options.Url}: {e.Message}");
    return 1;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
