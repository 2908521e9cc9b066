namespace Faultline.Operations.SelfReport;

public static class SelfReportExtensions
{
    public static IHostApplicationBuilder AddSelfReport(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SelfReportOptions>()
            .Bind(builder.Configuration.GetSection(SelfReportOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<SelfReportQueue>();
        builder.Services.AddSingleton<SelfReporter>();
        builder.Services.AddHostedService(s => s.GetRequiredService<SelfReporter>());
        builder.Services.AddSingleton<ILoggerProvider, SelfReportLoggerProvider>();
        // Errors reach the reporter whatever the general log levels say.
        builder.Logging.AddFilter<SelfReportLoggerProvider>(null, LogLevel.Error);
        return builder;
    }
}
