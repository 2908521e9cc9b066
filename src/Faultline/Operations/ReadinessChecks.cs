using Faultline.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Faultline.Operations;

/// <summary>Ready when the store answers and its schema is the one this build expects.</summary>
public sealed class StoreReadinessCheck(ISchemaMigrator store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var version = await store.SchemaVersionAsync(cancellationToken);
            return version >= store.LatestSchemaVersion
                ? HealthCheckResult.Healthy($"schema version {version}")
                : HealthCheckResult.Unhealthy($"schema version {version}, expected {store.LatestSchemaVersion}");
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("the store is unreachable", e);
        }
    }
}
