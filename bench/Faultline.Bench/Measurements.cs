using System.Diagnostics;
using System.Globalization;

namespace Faultline.Bench;

/// <summary>Latency percentiles in milliseconds, from every sample (sorted, nearest rank).</summary>
public sealed record LatencySummary(long Count, double Mean, double P50, double P90, double P95, double P99, double Max)
{
    public static LatencySummary FromTicks(List<long> ticks)
    {
        if (ticks.Count == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0, 0);
        }
        var sorted = ticks.ToArray();
        Array.Sort(sorted);
        double Ms(long t) => Math.Round(t * 1000.0 / Stopwatch.Frequency, 3);
        double At(double q) => Ms(sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)]);
        return new LatencySummary(
            sorted.Length,
            Math.Round(sorted.Average(t => t * 1000.0 / Stopwatch.Frequency), 3),
            At(0.50), At(0.90), At(0.95), At(0.99), Ms(sorted[^1]));
    }
}

/// <summary>Resident memory of the server process, read from /proc/PID/status.</summary>
public sealed record ProcessMemory(long RssKb, long PeakRssKb)
{
    public static ProcessMemory? Read(int? pid)
    {
        if (pid is null)
        {
            return null;
        }
        try
        {
            long rss = 0, hwm = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = ParseKb(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = ParseKb(line);
                }
            }
            return new ProcessMemory(rss, hwm);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Resets VmHWM to the current RSS (Linux: write 5 to clear_refs) so the peak covers this run
    /// only, not an earlier one against the same process. Needs the same user or root.
    /// </summary>
    public static bool TryResetPeak(int? pid)
    {
        if (pid is null)
        {
            return false;
        }
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long ParseKb(string line) =>
        long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
}

/// <summary>Samples the server's RSS in the background, in case its VmHWM could not be reset.</summary>
public sealed class RssSampler : IAsyncDisposable
{
    private readonly int? _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peakKb;

    public RssSampler(int? pid)
    {
        _pid = pid;
        _loop = pid is null ? Task.CompletedTask : Task.Run(LoopAsync);
    }

    public long PeakKb => Interlocked.Read(ref _peakKb);

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            do
            {
                var m = ProcessMemory.Read(_pid);
                if (m is not null && m.RssKb > Interlocked.Read(ref _peakKb))
                {
                    Interlocked.Exchange(ref _peakKb, m.RssKb);
                }
            }
            while (await timer.WaitForNextTickAsync(_stop.Token));
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
