using Faultline.Events;

namespace Faultline.Retention;

/// <summary>How long a project's events stay hot, how long they stay archived, and what "keep unreviewed" holds back.</summary>
public sealed record RetentionPolicy(int HotDays, int ArchiveDays, bool KeepUnreviewed, EventLevel KeepMinimumLevel)
{
    /// <summary>Ten years: past that a number is a typo, not a policy.</summary>
    public const int MaxDays = 3650;

    public static RetentionPolicy From(RetentionOptions options)
    {
        EventLevels.TryParse(options.KeepMinimumLevel, out var level);
        return new RetentionPolicy(options.HotDays, options.ArchiveDays, options.KeepUnreviewed, level);
    }

    /// <summary>Null when valid, otherwise a message for the caller.</summary>
    public string? Validate()
    {
        if (HotDays is < 1 or > MaxDays)
        {
            return $"hotDays must be between 1 and {MaxDays}, not {HotDays}.";
        }
        if (ArchiveDays is < 1 or > MaxDays)
        {
            return $"archiveDays must be between 1 and {MaxDays} (30, 90, 365 or a custom number), not {ArchiveDays}.";
        }
        return null;
    }
}

public enum RetentionScope
{
    Project,
    Organization,
}

/// <summary>The policy that applies to a project and where it comes from.</summary>
public sealed record EffectivePolicy(RetentionPolicy Policy, string Source, RetentionPolicy? Project, RetentionPolicy? Organization, RetentionPolicy Server);
