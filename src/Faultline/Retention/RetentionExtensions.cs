using Microsoft.Extensions.Options;

namespace Faultline.Retention;

public static class RetentionExtensions
{
    /// <summary>Retention policies, the archive target, restore, and the scheduled sweep.</summary>
    public static IHostApplicationBuilder AddRetention(this IHostApplicationBuilder builder)
    {
        builder.AddRetentionServices();
        builder.Services.AddHostedService<RetentionSweeper>();
        return builder;
    }

    /// <summary>Everything but the schedule (the CLI uses this).</summary>
    public static IHostApplicationBuilder AddRetentionServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RetentionOptions>()
            .Bind(builder.Configuration.GetSection(RetentionOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.Archive.Target != "s3" || !string.IsNullOrWhiteSpace(o.Archive.S3.Bucket),
                "Faultline:Retention:Archive:S3:Bucket is required when the archive target is s3.")
            .ValidateOnStart();
        builder.Services.AddSingleton<IArchiveTarget>(services =>
        {
            var archive = services.GetRequiredService<IOptions<RetentionOptions>>().Value.Archive;
            if (archive.Target == "s3")
            {
                return new S3Archive(archive.S3);
            }
            var root = Path.IsPathRooted(archive.LocalPath)
                ? archive.LocalPath
                : Path.Combine(services.GetRequiredService<IHostEnvironment>().ContentRootPath, archive.LocalPath);
            return new LocalFolderArchive(root);
        });
        builder.Services.AddSingleton<RetentionPolicies>();
        builder.Services.AddSingleton<RetentionSweep>();
        builder.Services.AddSingleton<ArchiveRestore>();
        return builder;
    }

    public static IEndpointRouteBuilder MapRetention(this IEndpointRouteBuilder app) => RetentionApi.Map(app);
}
