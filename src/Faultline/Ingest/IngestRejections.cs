using System.Globalization;
using Faultline.Operations;
using Faultline.Pipeline;

namespace Faultline.Ingest;

/// <summary>
/// How every front door answers a request it could not accept: a ProblemDetails with the reason,
/// Retry-After where waiting helps, and a rejection counted in the metrics. Nothing was stored.
/// </summary>
public static class IngestRejections
{
    /// <summary>True for the exceptions this class turns into a 4xx or 503 answer.</summary>
    public static bool IsRejection(Exception e) =>
        e is IngestRejectedException or EventValidationException or WriterUnavailableException or System.Data.Common.DbException;

    public static IResult ToResult(HttpContext context, FaultlineMetrics metrics, string endpoint, Exception exception, bool sentryRateLimitHeader = false)
    {
        var (status, reason, detail, retryAfter) = exception switch
        {
            IngestRejectedException e => (e.StatusCode, e.Reason, e.Detail, e.RetryAfter),
            EventValidationException e => (StatusCodes.Status400BadRequest, "invalid_event", e.Message, null),
            WriterUnavailableException e => (StatusCodes.Status503ServiceUnavailable, "unavailable", e.Message + " Nothing was stored; retry.", (TimeSpan?)TimeSpan.FromSeconds(5)),
            // The key lookup could not reach the store.
            _ => (StatusCodes.Status503ServiceUnavailable, "unavailable", "The event store is unavailable. Nothing was stored; retry.", TimeSpan.FromSeconds(5)),
        };
        // Rate-limited events are counted where the limit is applied.
        if (status != StatusCodes.Status429TooManyRequests)
        {
            metrics.Rejected(endpoint, reason);
        }
        if (retryAfter is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            context.Response.Headers.RetryAfter = seconds;
            if (sentryRateLimitHeader && status == StatusCodes.Status429TooManyRequests)
            {
                // Sentry's form: seconds, categories (error and default are what events count against), scope.
                context.Response.Headers["X-Sentry-Rate-Limits"] = $"{seconds}:error;default:key";
            }
        }
        var extensions = exception is EventValidationException invalid ? new Dictionary<string, object?> { ["field"] = invalid.Field } : null;
        return TypedResults.Problem(detail, statusCode: status, title: Title(status, exception), extensions: extensions);
    }

    private static string Title(int status, Exception exception) => status switch
    {
        400 when exception is EventValidationException => "Invalid event",
        400 => "Malformed request",
        401 => "Missing project key",
        403 => "Forbidden",
        413 => "Too large",
        415 => "Unsupported encoding",
        429 => "Rate limited",
        503 => "Unavailable",
        _ => "Rejected",
    };
}
