using Faultline.Events;
using Faultline.Operations;
using Faultline.Pipeline;
using Microsoft.Extensions.Options;

namespace Faultline.Ingest;

public sealed record IngestAccepted(IReadOnlyList<string> Ids);

public static class NativeIngestEndpoints
{
    public const string Endpoint = "native";

    public static IEndpointRouteBuilder MapNativeIngest(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/events", IngestAsync)
            .WithName("IngestEvents")
            .WithTags("Ingest")
            .WithSummary("Send one event, a JSON array of events, or NDJSON")
            .WithDescription("Authenticate with the project key in X-Faultline-Key or Authorization: Bearer. Bodies may be gzip, deflate, br or zstd encoded. Answers 202 once the events are durably stored.")
            .WithMetadata(new RequestBodyDocumentation(typeof(NativeEvent), ["application/json", "application/x-ndjson"]))
            .Produces<IngestAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> IngestAsync(
        HttpContext context,
        ProjectKeyResolver keys,
        IngestPipeline pipeline,
        IOptions<IngestOptions> options,
        FaultlineMetrics metrics,
        CancellationToken cancellationToken)
    {
        try
        {
            var publicKey = KeyFromHeaders(context.Request);
            if (publicKey is null)
            {
                throw new IngestRejectedException(StatusCodes.Status401Unauthorized, "missing_key",
                    "Send the project key in the X-Faultline-Key header or as Authorization: Bearer KEY.");
            }
            var key = await keys.ResolveAsync(publicKey, cancellationToken)
                ?? throw new IngestRejectedException(StatusCodes.Status403Forbidden, "unknown_key", "The project key is unknown or revoked.");

            var receivedAt = pipeline.Now;
            var body = await RequestBodyReader.ReadAsync(context.Request, options.Value, cancellationToken);
            var documents = NativeEventParser.Parse(body, options.Value);
            List<FaultlineEvent> events;
            try
            {
                var normalizer = new EventNormalizer(options.Value, strict: true);
                events = documents.Select((d, i) => normalizer.Normalize(d.RootElement, NativeEventParser.Path(i), receivedAt)).ToList();
            }
            finally
            {
                NativeEventParser.DisposeAll(documents);
            }
            var ids = await pipeline.IngestAsync(key, events, receivedAt, Endpoint, cancellationToken);
            return TypedResults.Json(new IngestAccepted(ids.Select(id => id.ToString("N")).ToList()), statusCode: StatusCodes.Status202Accepted);
        }
        catch (Exception e) when (IngestRejections.IsRejection(e))
        {
            return IngestRejections.ToResult(context, metrics, Endpoint, e);
        }
    }

    public static string? KeyFromHeaders(HttpRequest request)
    {
        var header = request.Headers["X-Faultline-Key"].ToString();
        if (!string.IsNullOrWhiteSpace(header))
        {
            return header.Trim();
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
    }
}
