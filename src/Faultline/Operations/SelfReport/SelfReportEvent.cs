using System.Diagnostics;
using Faultline.Events;

namespace Faultline.Operations.SelfReport;

/// <summary>An exception of Faultline's own as a <see cref="FaultlineEvent"/>, in Sentry's order (cause first, caller frames first).</summary>
public static class SelfReportEvent
{
    private const int MaxFrames = 50;
    private const int MaxChain = 10;
    private static readonly string? Release = typeof(SelfReportEvent).Assembly.GetName().Version?.ToString();

    public static FaultlineEvent From(SelfReportItem item)
    {
        var chain = new List<ExceptionInfo>();
        for (var e = item.Exception; e is not null && chain.Count < MaxChain; e = e.InnerException)
        {
            chain.Add(Describe(e, handled: false));
        }
        chain.Reverse();
        return new FaultlineEvent
        {
            EventId = Guid.CreateVersion7(),
            Timestamp = item.At,
            Level = EventLevel.Error,
            Message = item.Message,
            Logger = item.Source,
            Platform = "csharp",
            Release = Release,
            ServerName = System.Environment.MachineName,
            Exceptions = chain,
            Tags = new Dictionary<string, string> { ["source"] = item.Source },
        };
    }

    private static ExceptionInfo Describe(Exception exception, bool handled)
    {
        var frames = new StackTrace(exception, fNeedFileInfo: true).GetFrames()
            .Select(f => f.GetMethod() is { } method ? new Events.StackFrame
            {
                Module = method.DeclaringType?.FullName,
                Function = method.Name,
                Filename = f.GetFileName(),
                Lineno = f.GetFileLineNumber() is > 0 and var line ? line : null,
                InApp = method.DeclaringType?.Namespace?.StartsWith("Faultline", StringComparison.Ordinal) == true,
            } : null)
            .OfType<Events.StackFrame>()
            .Take(MaxFrames)
            .Reverse()
            .ToList();
        return new ExceptionInfo
        {
            Type = exception.GetType().FullName,
            Value = exception.Message,
            Module = exception.GetType().Namespace,
            Mechanism = new MechanismInfo { Type = "faultline.self_report", Handled = handled },
            Frames = frames,
        };
    }
}
