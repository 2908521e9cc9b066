using System.Security.Cryptography;
using System.Text;

namespace Faultline.Accounts;

/// <summary>Random keys and tokens, and the one-way hash under which API tokens are stored.</summary>
public static class Secrets
{
    public const string TokenPrefix = "flt_";

    /// <summary>A project's public key: 32 lowercase hex characters, the form Sentry DSN parsers accept.</summary>
    public static string NewPublicKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>An API token: 256 random bits; the prefix makes leaked tokens easy to recognise in scans.</summary>
    public static string NewApiToken() =>
        TokenPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>SHA-256 is enough for a 256-bit random token (no dictionary to attack) and costs one fast lookup per request.</summary>
    public static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
