using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Faultline.Operations;

/// <summary>
/// OpenTelemetry wiring: Faultline's own meter plus ASP.NET Core's and the runtime's built-in meters,
/// exported at <c>/metrics</c> in Prometheus text format; and, when OTEL_EXPORTER_OTLP_ENDPOINT is
/// set, traces, metrics and logs over OTLP (for a collector, ADOT or the CloudWatch agent).
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
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "faultline", serviceVersion: typeof(TelemetryExtensions).Assembly.GetName().Version?.ToString()))
            .WithMetrics(metrics => metrics.AddMeter(Meters).AddPrometheusExporter());
        builder.Services.ConfigureOpenTelemetryMeterProvider((services, metrics) => metrics.AddView(OnlyThisHost(services.GetRequiredService<IMeterFactory>())));
        if (OtlpConfigured(builder.Configuration))
        {
            // The standard OTEL_* settings (endpoint, protocol, headers, intervals) are read from configuration,
            // so environment variables and appsettings both work. Without an endpoint nothing is traced or sent.
            telemetry
                .WithTracing(tracing => tracing
                    .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsProbe(context.Request.Path))
                    .AddSource("Npgsql"))
                .WithLogging(configureBuilder: null, configureOptions: options =>
                {
                    options.IncludeFormattedMessage = true;
                    options.IncludeScopes = true;
                })
                .UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>
    /// OpenTelemetry listens to meters by name across the whole process. A second host in the same
    /// process (tests, or an app embedding Faultline) has meters of the same names, and its instruments
    /// would be merged into this host's series and, when it stops, end them. Meters made by another
    /// host's IMeterFactory are dropped; meters without a factory (the runtime's) are kept.
    /// </summary>
    internal static Func<Instrument, MetricStreamConfiguration?> OnlyThisHost(IMeterFactory ownFactory) =>
        instrument => instrument.Meter.Scope is IMeterFactory factory && !ReferenceEquals(factory, ownFactory)
            ? MetricStreamConfiguration.Drop
            : null;

    /// <summary>OTLP export is on when an endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT, or a per-signal one).</summary>
    public static bool OtlpConfigured(IConfiguration configuration) =>
        new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT" }
            .Any(key => !string.IsNullOrWhiteSpace(configuration[key]));

    /// <summary>Scrapes and health probes every few seconds would drown the traces that matter.</summary>
    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/metrics") || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz");

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: pipeline => pipeline.UseMiddleware<MetricsAccess>(), optionsName: null)
            .DisableHttpMetrics();
        return app;
    }
}
