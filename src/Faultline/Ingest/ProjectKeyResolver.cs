using Faultline.Storage;
using Microsoft.Extensions.Caching.Memory;

namespace Faultline.Ingest;

/// <summary>
/// Looks up project keys with a short cache, so ingest does not query the store per request.
/// A revoked key stops working within <see cref="CacheFor"/>.
/// </summary>
public sealed class ProjectKeyResolver(IAccountStore store, IMemoryCache cache)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    public async Task<ProjectKeyRecord?> ResolveAsync(string publicKey, CancellationToken cancellationToken)
    {
        // Keys are 32 hex characters; anything else cannot exist, so do not spend a query or a cache slot on it.
        if (publicKey.Length is 0 or > 64)
        {
            return null;
        }
        if (cache.TryGetValue(("project-key", publicKey), out ProjectKeyRecord? cached))
        {
            return cached;
        }
        var key = await store.FindProjectKeyAsync(publicKey, cancellationToken);
        var active = key is { RevokedAt: null } ? key : null;
        cache.Set(("project-key", publicKey), active, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = CacheFor, Size = 1 });
        return active;
    }
}
