namespace Faultline.Accounts;

/// <summary>
/// Organization roles. Owners and admins manage projects, keys and members; only owners grant,
/// change or remove the owner role; members read. An organization always keeps one owner.
/// </summary>
public static class Roles
{
    public const string Owner = "owner";
    public const string Admin = "admin";
    public const string Member = "member";

    public static readonly IReadOnlyList<string> All = [Owner, Admin, Member];

    public static bool CanManage(string role) => role is Owner or Admin;

    /// <summary>The role named by <paramref name="value"/> (any case), or an <see cref="AccountException"/>.</summary>
    public static string Parse(string? value) =>
        All.FirstOrDefault(r => string.Equals(r, value?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new AccountException($"role must be one of {string.Join(", ", All)}, not '{value}'.");
}
