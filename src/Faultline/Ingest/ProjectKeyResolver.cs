using Faultline.Storage;
using Microsoft.Extensions.Caching.Memory;

namespace Faultline.Ingest;

/// <summary>
/// Looks up project keys with a short cache, so ingest does not query the store per request.
/// A revoked key stops working at once on the node that revoked it (<see cref="Forget"/>), and
/// within <see cref="CacheFor"/> on the others.
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

    /// <summary>Drops the cached entry, so the next request reads the key (revoked, new rate limit) from the store.</summary>
    public void Forget(string publicKey) => cache.Remove(("project-key", publicKey));
}
