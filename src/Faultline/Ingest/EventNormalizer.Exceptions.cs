using System.Text.Json;
using Faultline.Events;

namespace Faultline.Ingest;

public sealed partial class EventNormalizer
{
    private List<ExceptionInfo> Exceptions(FieldReader reader)
    {
        var list = reader.ListOrValues("exception") ?? reader.ListOrValues("sentry.interfaces.Exception");
        var exceptions = new List<ExceptionInfo>();
        if (list is { } values)
        {
            var index = 0;
            foreach (var item in values.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    reader.Invalid($"exception[{index}]", "expected an object with type, value and stacktrace");
                }
                else if (Exception(reader.Item(item, "exception", index)) is { } exception)
                {
                    exceptions.Add(exception);
                }
                index++;
            }
        }
        // Old SDKs put a single stack trace at the top level next to a message.
        if (exceptions.Count == 0 && (reader.Object("stacktrace") ?? reader.Object("sentry.interfaces.Stacktrace")) is { } stack)
        {
            var frames = Frames(stack);
            if (frames.Count > 0)
            {
                exceptions.Add(new ExceptionInfo { Frames = frames });
            }
        }
        return exceptions;
    }

    private ExceptionInfo? Exception(FieldReader item)
    {
        var type = Short(item.String("type"));
        var value = item.String("value");
        var stack = item.Object("stacktrace") ?? item.Object("raw_stacktrace");
        var frames = stack is null ? [] : Frames(stack);
        if (type is null && value is null && frames.Count == 0)
        {
            return null;
        }
        var mechanism = item.Object("mechanism");
        return new ExceptionInfo
        {
            Type = type,
            Value = value is null ? null : Truncate(value, options.MaxMessageLength),
            Module = Short(item.String("module")),
            Mechanism = mechanism is null ? null : new MechanismInfo
            {
                Type = Short(mechanism.String("type")),
                Handled = mechanism.Bool("handled"),
                Synthetic = mechanism.Bool("synthetic") ?? false,
            },
            Frames = frames,
        };
    }

    private List<StackFrame> Frames(FieldReader stack)
    {
        var frames = new List<StackFrame>();
        if (!stack.Json.TryGetProperty("frames", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            if (stack.Json.TryGetProperty("frames", out var wrong) && wrong.ValueKind != JsonValueKind.Null)
            {
                stack.Invalid("frames", "expected a list of frames");
            }
            return frames;
        }
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object)
            {
                frames.Add(Frame(stack.Item(item, "frames", index)));
            }
            else
            {
                stack.Invalid($"frames[{index}]", "expected an object");
            }
            index++;
        }
        // Keep the crash site (last) and the outermost callers (first), as Sentry trims the middle.
        if (frames.Count > options.MaxFrames)
        {
            var head = options.MaxFrames / 2;
            frames = [.. frames.Take(head), .. frames.Skip(frames.Count - (options.MaxFrames - head))];
        }
        return frames;
    }

    private StackFrame Frame(FieldReader frame) => new()
    {
        Filename = Short(frame.String("filename")),
        AbsPath = Short(frame.String("abs_path")),
        Function = Short(frame.String("function") ?? frame.String("raw_function")),
        Module = Short(frame.String("module")),
        Lineno = frame.Int("lineno"),
        Colno = frame.Int("colno"),
        InApp = frame.Bool("in_app"),
        ContextLine = ContextLine(frame.String("context_line")),
        PreContext = ContextLines(frame, "pre_context", closestAtEnd: true),
        PostContext = ContextLines(frame, "post_context", closestAtEnd: false),
        Package = Short(frame.String("package")),
        InstructionAddr = Short(frame.String("instruction_addr")),
    };

    private string? ContextLine(string? line) => line is null ? null : Truncate(line, options.MaxShortFieldLength * 2);

    private List<string>? ContextLines(FieldReader frame, string name, bool closestAtEnd)
    {
        if (!frame.Json.TryGetProperty(name, out var list) || list.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (list.ValueKind != JsonValueKind.Array)
        {
            frame.Invalid(name, "expected a list of source lines");
            return null;
        }
        // Five lines either side is what SDKs send and what the dashboard shows: keep those nearest the crash line.
        var lines = list.EnumerateArray().Select(l => l.ValueKind == JsonValueKind.String ? ContextLine(Clean(l.GetString())) ?? "" : "");
        return (closestAtEnd ? lines.TakeLast(5) : lines.Take(5)).ToList();
    }

    private List<Breadcrumb> Breadcrumbs(FieldReader reader)
    {
        var breadcrumbs = new List<Breadcrumb>();
        if ((reader.ListOrValues("breadcrumbs") ?? reader.ListOrValues("sentry.interfaces.Breadcrumbs")) is not { } list)
        {
            return breadcrumbs;
        }
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                reader.Invalid($"breadcrumbs[{index}]", "expected an object");
                index++;
                continue;
            }
            var crumb = reader.Item(item, "breadcrumbs", index++);
            DateTimeOffset? timestamp = null;
            if (item.TryGetProperty("timestamp", out var time) && time.ValueKind != JsonValueKind.Null)
            {
                if (TimestampParser.TryParse(time, out var parsed))
                {
                    timestamp = parsed;
                }
                else
                {
                    crumb.Invalid("timestamp", "expected an RFC 3339 date-time string or Unix epoch seconds");
                }
            }
            var levelText = crumb.String("level");
            EventLevel? level = levelText is not null && EventLevels.TryParse(levelText, out var parsedLevel) ? parsedLevel : null;
            var message = crumb.String("message");
            breadcrumbs.Add(new Breadcrumb
            {
                Timestamp = timestamp,
                Type = Short(crumb.String("type")),
                Category = Short(crumb.String("category")),
                Message = message is null ? null : Truncate(message, options.MaxMessageLength),
                Level = level,
                Data = crumb.Passthrough("data"),
            });
        }
        // The most recent breadcrumbs matter most.
        return breadcrumbs.Count > options.MaxBreadcrumbs ? breadcrumbs[^options.MaxBreadcrumbs..] : breadcrumbs;
    }
}
