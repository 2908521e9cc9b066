using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Faultline.Tests.Infrastructure;

/// <summary>
/// A real Prometheus (the binary in FAULTLINE_TEST_PROMETHEUS, which ./test.sh sets through
/// scripts/prometheus.sh) scraping one target every second, with its HTTP query API.
/// Without the variable the tests fail and say so.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Variable = "FAULTLINE_TEST_PROMETHEUS";

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _log;
    private readonly HttpClient _http;

    private PrometheusServer(Process process, string directory, StringBuilder log, Uri address)
    {
        _process = process;
        _directory = directory;
        _log = log;
        Address = address;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri Address { get; }

    /// <summary>What Prometheus wrote so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<PrometheusServer> StartAsync(Uri target)
    {
        var binary = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"The Prometheus tests need {Variable} (the path of the prometheus binary). Run ./test.sh, or `export {Variable}=$(scripts/prometheus.sh path)`.");
        var directory = Path.Combine(Path.GetTempPath(), "faultline-prometheus", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(directory, "data"));
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 5s
              scrape_timeout: 5s
              evaluation_interval: 5s
            scrape_configs:
              - job_name: faultline
                metrics_path: {target.AbsolutePath.TrimEnd('/')}/metrics
                static_configs:
                  - targets: ["{target.Host}:{target.Port}"]
            """);
        var port = FreePort();
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory, "data")}", $"--web.listen-address=127.0.0.1:{port}" })
        {
            start.ArgumentList.Add(argument);
        }
        var log = new StringBuilder();
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new PrometheusServer(process, directory, log, new Uri($"http://127.0.0.1:{port}/"));
        await server.WaitUntilReadyAsync();
        return server;
    }

    /// <summary>An instant query through /api/v1/query; returns the whole answer ("status", "data"...), also on errors.</summary>
    public async Task<JsonElement> QueryAsync(string promql)
    {
        var response = await _http.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(promql));
        return JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The scrape targets' health and last error (for failure messages: a scrape that timed out on a loaded machine leaves every series stale).</summary>
    public async Task<string> TargetsAsync()
    {
        var answer = JsonSerializer.Deserialize<JsonElement>(await _http.GetStringAsync("api/v1/targets"));
        return string.Join("; ", answer.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
            .Select(t => $"{t.GetProperty("scrapeUrl").GetString()} health={t.GetProperty("health").GetString()} lastError={t.GetProperty("lastError").GetString()} lastScrapeDuration={t.GetProperty("lastScrapeDuration")}"));
    }

    /// <summary>Polls a query until it returns at least one series whose value passes <paramref name="accept"/>.</summary>
    public async Task<double> WaitForValueAsync(string promql, Func<double, bool> accept, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await QueryAsync(promql);
            if (last.GetProperty("status").GetString() == "success")
            {
                foreach (var series in last.GetProperty("data").GetProperty("result").EnumerateArray())
                {
                    var value = double.Parse(series.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                    if (accept(value))
                    {
                        return value;
                    }
                }
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"`{promql}` gave no accepted value within {timeout.TotalSeconds} s. Last answer: {last}\nTargets: {await TargetsAsync()}\nPrometheus log:\n{Log}");
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Prometheus exited with {_process.ExitCode}:\n{Log}");
            }
            try
            {
                if ((await _http.GetAsync("-/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Prometheus did not become ready within 30 s:\n{Log}");
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            log.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean from the temp folder.
        }
    }
}
