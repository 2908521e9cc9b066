using System.ComponentModel.DataAnnotations;

namespace Faultline.Dashboard;

public sealed class DashboardOptions
{
    public const string Section = "Faultline:Dashboard";

    /// <summary>
    /// Hours a signed-in session lasts without activity; each request past the half-way point renews it
    /// (sliding). 12 h covers a working day without keeping an unattended browser signed in overnight.
    /// </summary>
    [Range(0.05, 24 * 90)]
    public double SessionHours { get; set; } = 12;

    /// <summary>Issues per page; 50 rows render in a few milliseconds and fit two laptop screens.</summary>
    [Range(10, 200)]
    public int PageSize { get; set; } = 50;

    /// <summary>Live tail rows kept in the browser; older ones scroll away so a busy stream cannot grow the page without bound.</summary>
    [Range(20, 2000)]
    public int LiveRows { get; set; } = 200;
}
