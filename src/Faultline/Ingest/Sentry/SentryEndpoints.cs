using System.Text.Json;
using System.Text.RegularExpressions;
using Faultline.Events;
using Faultline.Operations;
using Faultline.Pipeline;
using Faultline.Storage;
using Microsoft.Extensions.Options;

namespace Faultline.Ingest.Sentry;

/// <summary>
/// The Sentry SDK front door: /api/{projectId}/envelope/ and the legacy /store/. Events go through
/// the same normaliser, grouping and durable writer as the native API.
/// </summary>
public static partial class SentryEndpoints
{
    public const string Endpoint = "sentry";
    public const string CorsPolicy = "sentry";

    // Browsers send these; the SDKs read the rate-limit answers.
    private static readonly string[] AllowedHeaders = ["Content-Type", "Content-Encoding", "X-Sentry-Auth", "Authorization", "sentry-trace", "baggage"];
    private static readonly string[] ExposedHeaders = ["Retry-After", "X-Sentry-Rate-Limits"];

    public static IServiceCollection AddSentryIngest(this IServiceCollection services)
    {
        services.AddCors(options => options.AddPolicy(CorsPolicy, policy => policy
            .AllowAnyOrigin().WithMethods("POST").WithHeaders(AllowedHeaders).WithExposedHeaders(ExposedHeaders)
            .SetPreflightMaxAge(TimeSpan.FromHours(1))));
        return services;
    }

    /// <summary>Accepts the endpoints under any path prefix (a reverse proxy's /sentry/api/1/envelope/).</summary>
    public static IApplicationBuilder UseSentryPathPrefix(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var path = context.Request.Path.Value;
        if (path is not null && !path.StartsWith("/api/", StringComparison.Ordinal) && PrefixedPath().Match(path) is { Success: true } match)
        {
            context.Request.PathBase = context.Request.PathBase.Add(match.Groups["prefix"].Value);
            context.Request.Path = match.Groups["rest"].Value;
        }
        return next(context);
    });

    public static IEndpointRouteBuilder MapSentryIngest(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/{projectId:long}").RequireCors(CorsPolicy).DisableAntiforgery().WithTags("Sentry");
        group.MapPost("/envelope/", EnvelopeAsync).WithName("SentryEnvelope")
            .WithSummary("Sentry SDK envelope endpoint (what every current Sentry SDK sends to)");
        group.MapPost("/store/", StoreAsync).WithName("SentryStore")
            .WithSummary("Legacy Sentry store endpoint: one event as JSON");
        return app;
    }

    private static async Task<IResult> EnvelopeAsync(long projectId, HttpContext context, SentryIngestServices services, CancellationToken cancellationToken)
    {
        try
        {
            await using var body = RequestBodyReader.OpenDecoded(context.Request, services.Options);
            var reader = new EnvelopeReader(body);
            var envelope = await EnvelopeParser.ReadHeaderAsync(reader, services.Options, cancellationToken);
            var dsn = SentryAuth.FromDsn(envelope.Dsn);
            var key = await AuthenticateAsync(services, projectId, SentryAuth.FromHeader(context.Request), SentryAuth.FromQuery(context.Request), dsn?.Key, cancellationToken);
            var receivedAt = services.Pipeline.Now;
            var items = await EnvelopeParser.ReadItemsAsync(reader, services.Options, cancellationToken);
            foreach (var (type, count) in items.Skipped)
            {
                services.Metrics.SentryItemsSkipped(type, count);
            }
            var normalizer = new EventNormalizer(services.Options, strict: false);
            var events = new List<FaultlineEvent>(items.Events.Count);
            foreach (var payload in items.Events)
            {
                var e = Normalize(normalizer, payload, receivedAt, services.Options);
                // The envelope header's event_id names the envelope's event.
                events.Add(envelope.EventId is { } id && items.Events.Count == 1 ? e with { EventId = id } : e);
            }
            if (events.Count == 0)
            {
                return TypedResults.Json(new SentryAccepted(envelope.EventId?.ToString("N")));
            }
            var ids = await services.Pipeline.IngestAsync(key, events, receivedAt, Endpoint, cancellationToken);
            return TypedResults.Json(new SentryAccepted(ids[0].ToString("N")));
        }
        catch (Exception e) when (IngestRejections.IsRejection(e))
        {
            return IngestRejections.ToResult(context, services.Metrics, Endpoint, e, sentryRateLimitHeader: true);
        }
    }

    private static async Task<IResult> StoreAsync(long projectId, HttpContext context, SentryIngestServices services, CancellationToken cancellationToken)
    {
        try
        {
            var key = await AuthenticateAsync(services, projectId, SentryAuth.FromHeader(context.Request), SentryAuth.FromQuery(context.Request), null, cancellationToken);
            var receivedAt = services.Pipeline.Now;
            var body = await RequestBodyReader.ReadAsync(context.Request, services.Options, cancellationToken);
            if (body.Length > services.Options.MaxEventBytes)
            {
                throw IngestRejectedException.TooLarge($"One event may be at most {services.Options.MaxEventBytes} bytes.");
            }
            var e = Normalize(new EventNormalizer(services.Options, strict: false), LegacyBody.Decode(body), receivedAt, services.Options);
            var ids = await services.Pipeline.IngestAsync(key, [e], receivedAt, Endpoint, cancellationToken);
            return TypedResults.Json(new SentryAccepted(ids[0].ToString("N")));
        }
        catch (Exception e) when (IngestRejections.IsRejection(e))
        {
            return IngestRejections.ToResult(context, services.Metrics, Endpoint, e, sentryRateLimitHeader: true);
        }
    }

    private static async Task<ProjectKeyRecord> AuthenticateAsync(SentryIngestServices services, long projectId, string? header, string? query, string? dsn, CancellationToken cancellationToken)
    {
        var publicKey = SentryAuth.Resolve(header, query, dsn);
        var key = await services.Keys.ResolveAsync(publicKey, cancellationToken);
        if (key is null || key.ProjectId != projectId)
        {
            throw new IngestRejectedException(StatusCodes.Status403Forbidden, "unknown_key",
                key is null ? "The project key is unknown or revoked." : "The project key does not belong to this project.");
        }
        return key;
    }

    private static FaultlineEvent Normalize(EventNormalizer normalizer, byte[] payload, DateTimeOffset receivedAt, IngestOptions options)
    {
        if (!System.Text.Unicode.Utf8.IsValid(payload))
        {
            throw IngestRejectedException.Malformed("The event is not valid UTF-8.");
        }
        try
        {
            using var document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = options.MaxJsonDepth });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw IngestRejectedException.Malformed("An event must be a JSON object.");
            }
            return normalizer.Normalize(document.RootElement, "event", receivedAt);
        }
        catch (JsonException e)
        {
            throw IngestRejectedException.Malformed($"The event is not valid JSON: {e.Message}");
        }
    }

    [GeneratedRegex(@"^(?<prefix>/.+?)(?<rest>/api/\d+/(envelope|store)/?)$")]
    private static partial Regex PrefixedPath();
}

/// <summary>What Sentry SDKs expect on success.</summary>
public sealed record SentryAccepted(string? Id);

/// <summary>The services both Sentry endpoints use, bundled to keep the handler signatures short.</summary>
public sealed class SentryIngestServices(ProjectKeyResolver keys, IngestPipeline pipeline, IOptions<IngestOptions> options, FaultlineMetrics metrics)
{
    public ProjectKeyResolver Keys { get; } = keys;
    public IngestPipeline Pipeline { get; } = pipeline;
    public IngestOptions Options { get; } = options.Value;
    public FaultlineMetrics Metrics { get; } = metrics;
}
