using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Faultline.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Faultline.Tests.Operations;

/// <summary>With OTEL_EXPORTER_OTLP_ENDPOINT set, Faultline sends traces, metrics and logs over OTLP/HTTP.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task With_an_otlp_endpoint_traces_metrics_and_logs_arrive_as_protobuf()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var app = await FaultlineApp.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Address.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            // Export within a second instead of the defaults (60 s for metrics, 5 s for spans and logs).
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["Logging:LogLevel:Default"] = "Information",
        });
        var tenant = await app.CreateTenantAsync("otlp");
        var response = await app.IngestClient(tenant.PublicKey).PostAsync("/api/v1/events", new StringContent("""{"message":"traced"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var arrived = await receiver.WaitForAsync(["/v1/traces", "/v1/metrics", "/v1/logs"], TimeSpan.FromSeconds(30));

        foreach (var (path, request) in arrived)
        {
            Assert.True(request.ContentType == "application/x-protobuf", $"{path}: {request.ContentType}");
            Assert.True(request.Body.Length > 0, path);
            // The resource's service.name is a plain string inside the protobuf message.
            Assert.True(Encoding.UTF8.GetString(request.Body).Contains("faultline", StringComparison.Ordinal), $"{path} has no service.name faultline");
        }
        // The ingest request's span, and Faultline's own counter (exported after the event was accepted).
        await receiver.WaitForBodyAsync("/v1/traces", "/api/v1/events", TimeSpan.FromSeconds(30));
        await receiver.WaitForBodyAsync("/v1/metrics", "faultline.events.accepted", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Without_an_endpoint_nothing_is_exported_and_only_metrics_are_collected()
    {
        await using var app = await FaultlineApp.StartAsync(StoreKind.Sqlite);
        Assert.Null(app.Services.GetService<OpenTelemetry.Trace.TracerProvider>());
        Assert.NotNull(app.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
    }
}

/// <summary>A minimal OTLP/HTTP receiver on a loopback port: records each POST to /v1/traces, /v1/metrics and /v1/logs.</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Path, OtlpRequest Request)> _requests;

    private OtlpReceiver(WebApplication app, ConcurrentQueue<(string, OtlpRequest)> requests, Uri address)
    {
        _app = app;
        _requests = requests;
        Address = address;
    }

    public Uri Address { get; }

    public IReadOnlyList<OtlpRequest> Requests(string path) => [.. _requests.Where(r => r.Path == path).Select(r => r.Request)];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var requests = new ConcurrentQueue<(string, OtlpRequest)>();
        app.MapPost("/v1/{signal}", async (HttpContext context, string signal) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            requests.Enqueue(("/v1/" + signal, new OtlpRequest(context.Request.ContentType ?? "", body.ToArray())));
            // An empty body is an empty Export*ServiceResponse: full success.
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new OtlpReceiver(app, requests, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"));
    }

    /// <summary>Waits until each path has received at least one request; returns the first of each.</summary>
    public async Task<IReadOnlyList<(string Path, OtlpRequest Request)>> WaitForAsync(string[] paths, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var first = paths.Select(p => (Path: p, Request: _requests.FirstOrDefault(r => r.Path == p).Request)).ToList();
            if (first.All(f => f.Request is not null))
            {
                return first!;
            }
            await Task.Delay(200);
        }
        var seen = string.Join(", ", _requests.Select(r => r.Path).Distinct());
        throw new TimeoutException($"Within {timeout.TotalSeconds} s the receiver got only: [{seen}], expected {string.Join(", ", paths)}.");
    }

    /// <summary>Waits until a request to <paramref name="path"/> contains <paramref name="text"/> (strings are plain UTF-8 in protobuf).</summary>
    public async Task WaitForBodyAsync(string path, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Requests(path).Any(r => Encoding.UTF8.GetString(r.Body).Contains(text, StringComparison.Ordinal)))
            {
                return;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"No request to {path} contained '{text}' within {timeout.TotalSeconds} s ({Requests(path).Count} requests).");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record OtlpRequest(string ContentType, byte[] Body);
