using System.Globalization;
using Faultline.Dashboard;
using Faultline.Search;
using Faultline.Storage;
using Microsoft.AspNetCore.Components;

namespace Faultline.Alerts.Pages;

/// <summary>
/// Base of the alert pages: the project (404 outside the user's organizations), whether the user may
/// change things (owners and admins), posted form fields, and running a change through
/// <see cref="AlertSettings"/> with post/redirect/get or an inline 4xx error.
/// </summary>
public abstract class AlertsPage : DashboardPage
{
    private static readonly Dictionary<string, string> Notices = new()
    {
        ["rule-created"] = "Rule created.",
        ["rule-saved"] = "Rule saved.",
        ["rule-deleted"] = "Rule deleted.",
        ["rule-enabled"] = "Rule enabled.",
        ["rule-disabled"] = "Rule disabled.",
        ["rule-snoozed"] = "Rule snoozed.",
        ["rule-unsnoozed"] = "Rule no longer snoozed.",
        ["channel-created"] = "Channel created.",
        ["channel-saved"] = "Channel saved.",
        ["channel-deleted"] = "Channel deleted.",
        ["report-created"] = "Report schedule created.",
        ["report-saved"] = "Report schedule saved.",
        ["report-deleted"] = "Report schedule deleted.",
    };

    [CascadingParameter]
    protected HttpContext HttpContext { get; set; } = null!;

    [Inject]
    protected IAlertStore Store { get; set; } = null!;

    [Inject]
    protected AlertSettings Settings { get; set; } = null!;

    [SupplyParameterFromQuery]
    protected string? Done { get; set; }

    protected ProjectRecord? Project { get; private set; }

    protected long UserId { get; private set; }

    /// <summary>Owners and admins see the forms; members read.</summary>
    protected bool CanManage { get; private set; }

    /// <summary>Why the last form was refused, and which form it was (the error is shown next to it).</summary>
    protected string? Error { get; private set; }

    protected string? ErrorForm { get; private set; }

    protected string? Notice => Done is not null && Notices.TryGetValue(Done, out var text) ? text : null;

    protected string Base => $"/projects/{Project?.Id}/alerts";

    /// <summary>Loads the project and the user's rights; false (and a 404) when the user may not see it.</summary>
    protected async Task<bool> LoadProjectAsync(long projectId)
    {
        Project = await ProjectOrNotFoundAsync(projectId);
        if (Project is null)
        {
            return false;
        }
        UserId = await UserIdAsync();
        CanManage = await Settings.CanManageAsync(UserId, Project.OrganizationId, CancellationToken.None);
        return true;
    }

    protected bool IsPost => HttpMethods.IsPost(HttpContext.Request.Method) && HttpContext.Request.HasFormContentType;

    protected string Field(string name) => IsPost ? HttpContext.Request.Form[name].ToString().Trim() : "";

    protected IReadOnlyList<string> Fields(string name) =>
        IsPost ? HttpContext.Request.Form[name].Select(v => v ?? "").Where(v => v.Length > 0).ToList() : [];

    /// <summary>An optional whole number from a form field; text that is not one is a 400 naming the field.</summary>
    protected int? Number(string name, string label)
    {
        var text = Field(name);
        if (text.Length == 0)
        {
            return null;
        }
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new AlertValidationException($"{label} must be a whole number, not '{(text.Length > 30 ? text[..30] + "..." : text)}'.");
    }

    /// <summary>
    /// Runs a change and redirects to the URL it returns (none: the page renders the outcome itself), or shows
    /// why it was refused with the API's status code.
    /// </summary>
    protected async Task RunAsync(string form, Func<Task<string?>> change)
    {
        string? target;
        try
        {
            target = await change();
        }
        catch (AlertValidationException e)
        {
            Fail(form, e.Message, StatusCodes.Status400BadRequest);
            return;
        }
        catch (QuerySyntaxException e)
        {
            Fail(form, $"query: {e.Message} (at character {e.Position + 1})", StatusCodes.Status400BadRequest);
            return;
        }
        catch (AlertForbiddenException e)
        {
            Fail(form, e.Message, StatusCodes.Status403Forbidden);
            return;
        }
        if (target is not null)
        {
            Navigation.NavigateTo(target);
        }
    }

    private void Fail(string form, string message, int status)
    {
        Error = message;
        ErrorForm = form;
        HttpContext.Response.StatusCode = status;
    }

    /// <summary>"90 s", "10 min", "2 h", "1 d 6 h": a duration in seconds for people.</summary>
    public static string Duration(int seconds)
    {
        var span = TimeSpan.FromSeconds(seconds);
        return seconds switch
        {
            0 => "none",
            < 7200 when seconds % 60 == 0 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60} min"),
            < 120 => string.Create(CultureInfo.InvariantCulture, $"{seconds} s"),
            < 7200 => string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0.#} min"),
            < 172_800 => string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0.#} h"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0.#} d"),
        };
    }

    /// <summary>What makes the rule fire, in words: "more than 100 events in 1 min".</summary>
    public static string Describe(AlertRuleDraft rule) => rule.Type switch
    {
        AlertRuleType.Threshold => $"more than {rule.Threshold} matching events in {Duration(rule.WindowSeconds ?? 0)}",
        AlertRuleType.IssueFrequency => $"one issue gets more than {rule.Threshold} matching events in {Duration(rule.WindowSeconds ?? 0)}",
        AlertRuleType.NewIssue => "the first event of a new issue",
        _ => "an event on a resolved issue (regression)",
    };

    /// <summary>The rule's filters in words, or null when it has none.</summary>
    public static string? Filters(AlertRuleDraft rule)
    {
        var parts = new List<string>();
        if (rule.MinLevel is { } level)
        {
            parts.Add($"level ≥ {Events.EventLevels.ToWire(level)}");
        }
        if (rule.Environment is { } environment)
        {
            parts.Add($"environment {environment}");
        }
        if (rule.Release is { } release)
        {
            parts.Add($"release {release}");
        }
        if (rule.Query is { } query)
        {
            parts.Add($"query {query}");
        }
        return parts.Count == 0 ? null : string.Join(" · ", parts);
    }

    /// <summary>A snooze end from the form: "until" (a UTC date and time) wins over "for" (1h, 24h, 7d).</summary>
    protected DateTimeOffset SnoozeEnd()
    {
        var until = Field("until");
        if (until.Length > 0)
        {
            return DateTime.TryParse(until, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var end)
                ? new DateTimeOffset(end, TimeSpan.Zero)
                : throw new AlertValidationException($"until must be a date and time (UTC), not '{(until.Length > 30 ? until[..30] + "..." : until)}'.");
        }
        var now = Time.GetUtcNow();
        return Field("for") switch
        {
            "1h" => now.AddHours(1),
            "24h" => now.AddHours(24),
            "7d" => now.AddDays(7),
            _ => throw new AlertValidationException("Snooze for 1h, 24h or 7d, or until a date and time."),
        };
    }
}
