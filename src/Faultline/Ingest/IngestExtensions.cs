using Faultline.Ingest.Sentry;
using Faultline.Pipeline;
using Microsoft.Extensions.Options;

namespace Faultline.Ingest;

public static class IngestExtensions
{
    public static IHostApplicationBuilder AddIngest(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestOptions>()
            .Bind(builder.Configuration.GetSection(IngestOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<PipelineOptions>()
            .Bind(builder.Configuration.GetSection(PipelineOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddMemoryCache(o => o.SizeLimit = 100_000);
        builder.Services.AddSingleton<ProjectKeyResolver>();
        builder.Services.AddSingleton<ProjectRateLimiter>();
        builder.Services.AddSingleton<EventWriter>();
        builder.Services.AddHostedService(s => s.GetRequiredService<EventWriter>());
        builder.Services.AddSingleton<IngestPipeline>();
        builder.Services.AddSingleton<Sentry.SentryIngestServices>();
        builder.Services.AddSentryIngest();
        builder.Services.AddOptions<BenchOptions>().Bind(builder.Configuration.GetSection(BenchOptions.Section));
        return builder;
    }

    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder app)
    {
        app.MapNativeIngest();
        app.MapSentryIngest();
        if (app.ServiceProvider.GetRequiredService<IOptions<BenchOptions>>().Value.DiscardEndpoint)
        {
            // The benchmark's ceiling: the same body read and thrown away, with no parsing or storage.
            app.MapPost("/api/v1/bench/discard", async (HttpContext context, IOptions<IngestOptions> options, CancellationToken cancellationToken) =>
            {
                await RequestBodyReader.ReadAsync(context.Request, options.Value, cancellationToken);
                return Results.StatusCode(StatusCodes.Status202Accepted);
            }).ExcludeFromDescription().DisableAntiforgery();
        }
        return app;
    }
}

public sealed class BenchOptions
{
    public const string Section = "Faultline:Bench";

    /// <summary>Off by default: an endpoint that accepts anything has no place in production.</summary>
    public bool DiscardEndpoint { get; set; }
}
