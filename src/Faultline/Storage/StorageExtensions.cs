using System.Runtime.CompilerServices;
using Faultline.Storage.Postgres;
using Faultline.Storage.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Faultline.Storage;

public static class StorageExtensions
{
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>()
            .Bind(builder.Configuration.GetSection(StorageOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.Provider != "postgres" || !string.IsNullOrWhiteSpace(o.Postgres.ConnectionString),
                "Faultline:Storage:Postgres:ConnectionString is required when the provider is postgres.")
            .ValidateOnStart();

        builder.Services.AddSingleton<IFaultlineStore>(services => CreateStore(services));
        builder.Services.AddSingleton<IAccountStore>(s => s.GetRequiredService<IFaultlineStore>());
        builder.Services.AddSingleton<Accounts.IAccountAdminStore>(s => s.GetRequiredService<IFaultlineStore>());
        builder.Services.AddSingleton<IEventStore>(s => s.GetRequiredService<IFaultlineStore>());
        builder.Services.AddSingleton<IIssueStore>(s => s.GetRequiredService<IFaultlineStore>());
        builder.Services.AddSingleton<ISchemaMigrator>(s => s.GetRequiredService<IFaultlineStore>());
        builder.Services.AddSingleton<IDashboardStore>(s => s.GetRequiredService<IFaultlineStore>());
        builder.Services.AddSingleton<Retention.IRetentionStore>(s => s.GetRequiredService<IFaultlineStore>());
        builder.Services.AddSingleton<Faultline.Alerts.IAlertStore>(s => s.GetRequiredService<IFaultlineStore>());
        builder.Services.AddSingleton<IOperationsStore>(s => s.GetRequiredService<IFaultlineStore>());
        builder.Services.AddSingleton<Docker.ILogStreamStore>(s => s.GetRequiredService<IFaultlineStore>());
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    /// <summary>Applies migrations and prepares partitions before the server accepts requests, then keeps partitions ahead.</summary>
    public static IHostApplicationBuilder AddStorageMaintenance(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<StorageMaintenance>();
        return builder;
    }

    private static IFaultlineStore CreateStore(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        if (options.Provider == "postgres")
        {
            return CreatePostgresStore(options);
        }
        var environment = services.GetRequiredService<IHostEnvironment>();
        var path = Path.IsPathRooted(options.Sqlite.Path)
            ? options.Sqlite.Path
            : Path.Combine(environment.ContentRootPath, options.Sqlite.Path);
        return new SqliteStore(path);
    }

    /// <summary>Apart and not inlined: compiling it loads Npgsql, which a server on SQLite never needs.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static PostgresStore CreatePostgresStore(StorageOptions options)
    {
        var builder = new NpgsqlDataSourceBuilder(options.Postgres.ConnectionString);
        // The writer's few statements run thousands of times: prepared once, they skip parsing and planning.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }
        // JIT compilation pays off only for long analytical scans: the dashboard's counts over many
        // rows crossed jit_above_cost and spent about half a second compiling each (measured at 1M
        // events). Options given in the connection string win.
        if (string.IsNullOrEmpty(builder.ConnectionStringBuilder.Options))
        {
            builder.ConnectionStringBuilder.Options = "-c jit=off";
        }
        var dataSource = builder.Build();
        return new PostgresStore(dataSource);
    }
}
