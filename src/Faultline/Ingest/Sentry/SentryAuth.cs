namespace Faultline.Ingest.Sentry;

/// <summary>
/// Finds the public key a Sentry SDK sent: the X-Sentry-Auth header (with or without spaces after
/// commas), the sentry_key query parameter, or the envelope header's DSN. All that are present
/// must agree.
/// </summary>
internal static class SentryAuth
{
    public static string? FromHeader(HttpRequest request)
    {
        var header = request.Headers["X-Sentry-Auth"].ToString();
        if (string.IsNullOrWhiteSpace(header))
        {
            // Some SDKs send the same value in Authorization.
            header = request.Headers.Authorization.ToString();
            if (!header.StartsWith("Sentry ", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }
        }
        var fields = header.StartsWith("Sentry ", StringComparison.OrdinalIgnoreCase) ? header[7..] : header;
        foreach (var field in fields.Split(','))
        {
            var pair = field.Split('=', 2);
            if (pair.Length == 2 && pair[0].Trim().Equals("sentry_key", StringComparison.OrdinalIgnoreCase))
            {
                return pair[1].Trim();
            }
        }
        return null;
    }

    public static string? FromQuery(HttpRequest request) =>
        request.Query["sentry_key"].ToString() is { Length: > 0 } key ? key.Trim() : null;

    /// <summary>The key and project id of a DSN: scheme://KEY[:secret]@host[:port][/prefix]/PROJECT_ID.</summary>
    public static (string Key, string ProjectId)? FromDsn(string? dsn)
    {
        if (dsn is null || !Uri.TryCreate(dsn, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.UserInfo))
        {
            return null;
        }
        var key = uri.UserInfo.Split(':')[0];
        var projectId = uri.AbsolutePath.TrimEnd('/').Split('/')[^1];
        return key.Length == 0 ? null : (key, projectId);
    }

    /// <summary>The one key all sources agree on; throws 401 when there is none and 400 when they differ.</summary>
    public static string Resolve(params string?[] candidates)
    {
        var keys = candidates.Where(k => !string.IsNullOrEmpty(k)).Distinct(StringComparer.Ordinal).ToList();
        return keys.Count switch
        {
            0 => throw new IngestRejectedException(StatusCodes.Status401Unauthorized, "missing_key",
                "Send the project key as X-Sentry-Auth: Sentry sentry_key=KEY, as ?sentry_key=KEY, or in the envelope header's dsn."),
            1 => keys[0]!,
            _ => throw new IngestRejectedException(StatusCodes.Status400BadRequest, "conflicting_keys",
                "The request names different project keys (header, query string, envelope dsn); send one."),
        };
    }
}
