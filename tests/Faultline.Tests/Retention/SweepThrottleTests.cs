using Faultline.Retention;
using Microsoft.Extensions.Time.Testing;

namespace Faultline.Tests.Retention;

/// <summary>The throttle's arithmetic on a fake clock: the pause after a chunk is work × (1 − share) / share.</summary>
public sealed class SweepThrottleTests
{
    [Fact]
    public async Task A_chunk_is_followed_by_a_pause_in_proportion_to_its_work()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        var throttle = new SweepThrottle(0.25, time);
        time.Advance(TimeSpan.FromMilliseconds(100)); // the chunk's work

        var pause = throttle.ChunkDoneAsync(default).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(299));
        Assert.False(pause.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await pause;

        Assert.Equal(TimeSpan.FromMilliseconds(100), throttle.Worked);
        Assert.Equal(TimeSpan.FromMilliseconds(300), throttle.Paused);
        // The pause itself is not counted as work: a chunk that took no time is not followed by a pause.
        Assert.True(throttle.ChunkDoneAsync(default).IsCompleted);
        Assert.Equal(TimeSpan.FromMilliseconds(300), throttle.Paused);
    }

    [Fact]
    public void A_share_of_one_never_pauses()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        var throttle = new SweepThrottle(1, time);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(throttle.ChunkDoneAsync(default).IsCompleted);
        Assert.Equal(TimeSpan.Zero, throttle.Paused);
    }
}
