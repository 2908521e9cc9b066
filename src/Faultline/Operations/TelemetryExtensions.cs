using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Faultline.Operations;

/// <summary>
/// OpenTelemetry wiring: Faultline's own meter plus ASP.NET Core's and the runtime's built-in meters,
/// exported at <c>/metrics</c> in Prometheus text format.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>Meters exported: Faultline's own (every feature's instruments), HTTP server, Kestrel, .NET runtime.</summary>
    public static readonly string[] Meters =
    [
        FaultlineMetrics.MeterName,
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "System.Runtime",
    ];

    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>()
            .Bind(builder.Configuration.GetSection(MetricsOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<FaultlineStateMetrics>();
        builder.Services.AddSingleton<Pipeline.ICommittedBatchObserver>(s => s.GetRequiredService<FaultlineStateMetrics>());
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("faultline", serviceVersion: typeof(TelemetryExtensions).Assembly.GetName().Version?.ToString()))
            .WithMetrics(metrics => metrics.AddMeter(Meters).AddPrometheusExporter());
        return builder;
    }

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: pipeline => pipeline.UseMiddleware<MetricsAccess>(), optionsName: null)
            .DisableHttpMetrics();
        return app;
    }
}
