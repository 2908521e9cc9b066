using Faultline.Operations.SelfReport;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Scalar.AspNetCore;

namespace Faultline.Operations;

public static class OperationsExtensions
{
    public static IHostApplicationBuilder AddOperations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<FaultlineMetrics>();
        builder.AddTelemetry();
        builder.AddSelfReport();
        builder.Services.AddProblemDetails();
        // Binding failures throw so BadRequestExceptionHandler can say which parameter was wrong.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Faultline API";
                document.Info.Description = "Native ingest and the query API. See docs/api.md.";
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(RequestBodyDocumentation.TransformAsync);
        });
        builder.Services.AddHealthChecks().AddCheck<StoreReadinessCheck>("store", tags: ["ready"]);
        return builder;
    }

    public static WebApplication UseOperations(this WebApplication app)
    {
        // Unhandled exceptions become ProblemDetails without internals; client mistakes are 4xx before this.
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/api/openapi.json");
        app.MapScalarApiReference("/api/docs", options => options.WithOpenApiRoutePattern("/api/openapi.json").WithTitle("Faultline API"));
        // /healthz: the process answers (for restarts). /readyz: it can do its work (for load balancers).
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        app.MapMetrics();
        return app;
    }
}
