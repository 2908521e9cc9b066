namespace Faultline.Docker;

public static class DockerExtensions
{
    /// <summary>The syslog/GELF receivers and the engine watcher; both do nothing unless configured.</summary>
    public static IHostApplicationBuilder AddDocker(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DockerOptions>()
            .Bind(builder.Configuration.GetSection(DockerOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.Listeners.Values.All(l => System.Net.IPAddress.TryParse(l.Address, out _)), "Every Faultline:Docker:Listeners:*:Address must be an IP address.")
            .Validate(o => o.Listeners.Values.All(l => l.Protocol is not null), "Every Faultline:Docker:Listeners:* needs a Protocol (SyslogTcp, SyslogUdp, GelfTcp or GelfUdp).")
            .Validate(o => IsRegex(o.ErrorPattern) && IsRegex(o.Multiline.ContinuationPattern) && IsRegex(o.SyslogTagPattern), "Faultline:Docker patterns must be valid regular expressions.")
            .ValidateOnStart();
        builder.Services.AddSingleton<DockerMetrics>();
        builder.Services.AddSingleton<RecentContainerLines>();
        builder.Services.AddSingleton<DockerLogReceivers>();
        builder.Services.AddHostedService(s => s.GetRequiredService<DockerLogReceivers>());
        builder.Services.AddSingleton<CriticalIssueMarker>();
        builder.Services.AddSingleton<Pipeline.ICommittedBatchObserver>(s => s.GetRequiredService<CriticalIssueMarker>());
        builder.Services.AddHostedService(s => s.GetRequiredService<CriticalIssueMarker>());
        builder.Services.AddSingleton<LogStreamTracker>();
        builder.Services.AddSingleton<Pipeline.ICommittedBatchObserver>(s => s.GetRequiredService<LogStreamTracker>());
        builder.Services.AddHostedService(s => s.GetRequiredService<LogStreamTracker>());
        builder.Services.AddSingleton<EngineWatcher>();
        builder.Services.AddHostedService(s => s.GetRequiredService<EngineWatcher>());
        return builder;
    }

    /// <summary>The log streams API (list, mark critical, mark reviewed).</summary>
    public static IEndpointRouteBuilder MapDocker(this IEndpointRouteBuilder app) => LogStreamsApi.Map(app);

    private static bool IsRegex(string pattern)
    {
        try
        {
            _ = new System.Text.RegularExpressions.Regex(pattern);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
