using System.Collections.Concurrent;

namespace Faultline.Accounts;

/// <summary>
/// Records when each API token was last used, writing at most once per <see cref="Resolution"/>
/// per token and node: a write per API request would cost more than the request itself (SQLite
/// has one writer). "Last used" is therefore accurate to about a minute.
/// </summary>
public sealed partial class ApiTokenUsage(IAccountAdminStore store, TimeProvider time, ILogger<ApiTokenUsage> logger)
{
    public static readonly TimeSpan Resolution = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<long, DateTimeOffset> _written = new();

    public async Task RecordAsync(long tokenId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_written.TryGetValue(tokenId, out var last) && now - last < Resolution)
        {
            return;
        }
        _written[tokenId] = now;
        try
        {
            await store.TouchApiTokenAsync(tokenId, now, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Bookkeeping only: a busy store must not fail the request the token authenticated.
            _written.TryRemove(tokenId, out _);
            LogTouchFailed(logger, e, tokenId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the use of API token {TokenId}")]
    private static partial void LogTouchFailed(ILogger logger, Exception exception, long tokenId);
}
