using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Faultline.Events;

namespace Faultline.Issues;

/// <summary>
/// Decides which issue an event belongs to, the way Sentry does: explicit fingerprint, then stack trace,
/// then exception type and value, then message.
/// </summary>
public static partial class Fingerprinter
{
    // Normalising costs about a microsecond per placeholder; text past this point rarely tells groups apart,
    // and a megabyte of "1 2 3 ..." in one event must not stall ingestion.
    private const int MaxNormalisedLength = 8 * 1024;

    /// <summary>
    /// Returns a stable grouping key: 32 lowercase hex chars (first 16 bytes of SHA-256 over the contributing parts).
    /// </summary>
    public static string Compute(FaultlineEvent e)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var part in Components(e))
        {
            // Length-prefixed so ["ab", "c"] and ["a", "bc"] never hash alike, whatever the parts contain.
            var bytes = Encoding.UTF8.GetBytes(part);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 16));
    }

    /// <summary>
    /// The parts that went into the hash, for debugging/explaining grouping
    /// (e.g. ["exception-type:System.InvalidOperationException", "frame:MyApp.Orders|PlaceOrder", ...]).
    /// </summary>
    public static IReadOnlyList<string> Components(FaultlineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Fingerprint is not { Count: > 0 } fingerprint)
        {
            return DefaultComponents(e);
        }

        var parts = new List<string>();
        List<string>? defaults = null;
        foreach (var element in fingerprint)
        {
            // Deserialised lists can hold nulls whatever the declared type says.
            if (element is not null && DefaultVariable().IsMatch(element))
            {
                defaults ??= DefaultComponents(e);
                parts.AddRange(defaults);
            }
            else
            {
                parts.Add("fingerprint:" + element);
            }
        }

        return parts;
    }

    /// <summary>Module and function of a frame with compiler noise removed; shared with the culprit.</summary>
    internal static (string? Module, string? Function) FrameNames(StackFrame frame)
    {
        var module = CleanModule(frame.Module, out var stateMachineMethod);
        return (module, CleanFunction(frame.Function, stateMachineMethod));
    }

    private static List<string> DefaultComponents(FaultlineEvent e)
    {
        var framesPerException = e.Exceptions.Select(ContributingFrames).ToList();
        var anyFrame = framesPerException.Any(frames => frames.Count > 0);

        var parts = new List<string>();
        for (var i = 0; i < e.Exceptions.Count; i++)
        {
            var exception = e.Exceptions[i];
            // A synthetic exception's type is whatever the crash handler called it (Segfault, Error): not a signal.
            if (exception.Mechanism?.Synthetic != true && !string.IsNullOrWhiteSpace(exception.Type))
            {
                parts.Add("exception-type:" + exception.Type.Trim());
            }

            // The value holds ids and amounts that differ per occurrence; the call site is the better key when known.
            if (!anyFrame && !string.IsNullOrWhiteSpace(exception.Value))
            {
                parts.Add("exception-value:" + NormaliseText(exception.Value));
            }

            parts.AddRange(framesPerException[i]);
        }

        if (parts.Count > 0)
        {
            return parts;
        }

        // A template ("Order {Id} failed") already lacks its parameters; only a formatted message needs normalising.
        if (!string.IsNullOrWhiteSpace(e.MessageTemplate))
        {
            parts.Add("message:" + e.MessageTemplate.Trim());
        }
        else if (!string.IsNullOrWhiteSpace(e.Message))
        {
            parts.Add("message:" + NormaliseText(e.Message));
        }

        return parts;
    }

    private static string NormaliseText(string text) =>
        MessageNormalizer.Normalize(text.Length <= MaxNormalisedLength ? text : text[..MaxNormalisedLength]);

    private static List<string> ContributingFrames(ExceptionInfo exception)
    {
        var frames = exception.Frames;
        var parts = new List<string>();
        // Library and runtime frames differ between hosts and framework versions; the app's own frames do not.
        var inAppOnly = frames.Any(frame => frame.InApp == true);
        foreach (var frame in frames)
        {
            if (inAppOnly && frame.InApp != true)
            {
                continue;
            }

            var (module, function) = FrameNames(frame);
            var location = module ?? NormaliseFilename(frame.Filename ?? frame.AbsPath);
            if (location is null && function is null)
            {
                continue;
            }

            // An anonymous function is told apart by its source line, as Sentry does: otherwise every
            // callback in a file would share one key.
            var part = function is null && !string.IsNullOrWhiteSpace(frame.ContextLine)
                ? $"frame:{location}|line:{ContextLine(frame.ContextLine)}"
                : $"frame:{location}|{function}";
            // Recursion depth, and an async method listed once for its stub and once for its state machine,
            // must not split a group.
            if (parts.Count == 0 || parts[^1] != part)
            {
                parts.Add(part);
            }
        }

        return parts;
    }

    /// <summary>The source line without its indentation and repeated spaces; long lines are cut (minified code).</summary>
    private static string ContextLine(string line)
    {
        var collapsed = string.Join(' ', line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return collapsed.Length <= 200 ? collapsed : collapsed[..200];
    }

    private static string? CleanModule(string? module, out string? stateMachineMethod)
    {
        stateMachineMethod = null;
        if (IsUnknown(module))
        {
            return null;
        }

        var trimmed = module.Trim();
        var stateMachine = StateMachineType().Match(trimmed);
        if (stateMachine.Success)
        {
            // "OrderService+<PlaceOrder>d__5" / MoveNext is OrderService.PlaceOrder compiled as async.
            stateMachineMethod = stateMachine.Groups["method"].Value;
            trimmed = trimmed[..stateMachine.Index];
        }

        return GeneratedOrdinal().Replace(trimmed, "${name}");
    }

    private static string? CleanFunction(string? function, string? stateMachineMethod)
    {
        if (IsUnknown(function))
        {
            return stateMachineMethod;
        }

        var trimmed = function.Trim();
        if (stateMachineMethod is not null && trimmed == "MoveNext")
        {
            return stateMachineMethod;
        }

        trimmed = AsyncMoveNext().Replace(trimmed, "${method}");
        return GeneratedOrdinal().Replace(trimmed, "${name}");
    }

    private static bool IsUnknown([NotNullWhen(false)] string? name) =>
        string.IsNullOrWhiteSpace(name)
        || name.Trim() is "?" or "<anonymous>" or "(anonymous)" or "<unknown>" or "(unknown)";

    private static string? NormaliseFilename(string? filename)
    {
        if (string.IsNullOrWhiteSpace(filename))
        {
            return null;
        }

        var path = filename.Trim();
        var query = path.IndexOfAny(['?', '#']);
        if (query >= 0)
        {
            path = path[..query];
        }

        // The same bundle is served from several origins (CDN, staging, localhost).
        var scheme = path.IndexOf("://", StringComparison.Ordinal);
        if (scheme > 0)
        {
            var slash = path.IndexOf('/', scheme + 3);
            path = slash < 0 ? string.Empty : path[slash..];
        }

        path = BuildHash().Replace(path.Replace('\\', '/'), "<hash>");
        return path.Length == 0 ? null : path;
    }

    [GeneratedRegex(@"^\s*\{\{\s*default\s*\}\}\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DefaultVariable();

    [GeneratedRegex(@"\+<(?<method>[^<>]+)>d__\d+(?:`\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex StateMachineType();

    // "<PlaceOrder>d__5.MoveNext" and "OrderService.<PlaceOrder>d__5.MoveNext()" as some stack trace formats print them.
    [GeneratedRegex(@"<(?<method>[^<>]+)>d__\d+(?:`\d+)?\.MoveNext(?:\(\))?", RegexOptions.CultureInvariant)]
    private static partial Regex AsyncMoveNext();

    // Closure, lambda and local function ordinals (<>c__DisplayClass5_0, <Main>b__0_0, <Main>g__Local|1_0)
    // shift whenever unrelated code in the same type changes.
    [GeneratedRegex(@"(?<name>DisplayClass|>[a-z]__(?:\w+\|)?)\d+(?:_\d+)?", RegexOptions.CultureInvariant)]
    private static partial Regex GeneratedOrdinal();

    // Content hashes bundlers put in file names (app.3f9a2c1b.js, index-Bx1L2k9Q.js) change on every deploy.
    [GeneratedRegex(
        @"(?<=[./-])(?=[0-9a-f]*[0-9])[0-9a-f]{7,}(?=[./])|(?<=[.-])(?=[A-Za-z0-9_]*[0-9])[A-Za-z0-9_]{8}(?=\.)",
        RegexOptions.CultureInvariant)]
    private static partial Regex BuildHash();
}
