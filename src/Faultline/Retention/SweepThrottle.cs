namespace Faultline.Retention;

/// <summary>
/// Keeps the sweep to a share of wall time so ingest keeps the machine: after each chunk of work
/// (a chunk of events written, read back or deleted) it waits so that work / (work + pause) stays at
/// <see cref="RetentionOptions.SweepWorkShare"/>. A duty cycle rather than a fixed rate, because the
/// cost of a chunk varies by engine, event size and load; the pause scales with what the chunk took.
/// Time is measured and waited through the <see cref="TimeProvider"/>.
/// </summary>
public sealed class SweepThrottle(double workShare, TimeProvider time)
{
    private long _workStarted = time.GetTimestamp();

    public TimeSpan Worked { get; private set; }

    public TimeSpan Paused { get; private set; }

    /// <summary>Called with each pause once its timer is set (tests advance a fake clock by it).</summary>
    internal Action<TimeSpan>? Pausing { get; set; }

    /// <summary>Ends a chunk of work: waits in proportion to the time it took, then starts timing the next.</summary>
    public async ValueTask ChunkDoneAsync(CancellationToken cancellationToken)
    {
        var worked = time.GetElapsedTime(_workStarted);
        Worked += worked;
        if (workShare < 1 && worked > TimeSpan.Zero)
        {
            var pause = worked * ((1 - workShare) / workShare);
            var delay = Task.Delay(pause, time, cancellationToken);
            Pausing?.Invoke(pause);
            await delay;
            Paused += pause;
        }
        _workStarted = time.GetTimestamp();
    }
}
