using Faultline.Alerts.Channels;
using Faultline.Alerts.Reports;
using Faultline.Pipeline;

namespace Faultline.Alerts;

public static class AlertsExtensions
{
    /// <summary>Rule evaluation after commit, the outbox dispatcher, channel senders and report schedules.</summary>
    public static IHostApplicationBuilder AddAlerts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AlertOptions>()
            .Bind(builder.Configuration.GetSection(AlertOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var timeout = builder.Configuration.GetSection(AlertOptions.Section).Get<AlertOptions>()?.Delivery.HttpTimeout ?? new DeliveryOptions().HttpTimeout;
        builder.Services.AddHttpClient(HttpDelivery.ClientName, client => client.Timeout = timeout);
        builder.Services.AddSingleton<AlertMetrics>();
        builder.Services.AddSingleton<AlertRuleCache>();
        builder.Services.AddSingleton<AlertNotifier>();
        builder.Services.AddSingleton<SmtpMailer>();
        builder.Services.AddSingleton<IChannelSender, EmailSender>();
        builder.Services.AddSingleton<IChannelSender, SlackSender>();
        builder.Services.AddSingleton<IChannelSender, WebhookSender>();
        builder.Services.AddSingleton<IChannelSender, JiraSender>();
        builder.Services.AddSingleton<IChannelSender, ReportMailSender>();
        builder.Services.AddSingleton<OutboxDispatcher>();
        builder.Services.AddHostedService(s => s.GetRequiredService<OutboxDispatcher>());
        builder.Services.AddSingleton<AlertEvaluator>();
        builder.Services.AddSingleton<ICommittedBatchObserver>(s => s.GetRequiredService<AlertEvaluator>());
        builder.Services.AddHostedService(s => s.GetRequiredService<AlertEvaluator>());
        builder.Services.AddSingleton<ReportScheduler>();
        builder.Services.AddHostedService(s => s.GetRequiredService<ReportScheduler>());
        builder.Services.AddSingleton<AlertSettings>();
        return builder;
    }

    public static IEndpointRouteBuilder MapAlerts(this IEndpointRouteBuilder app)
    {
        app.MapAlertsApi().MapReportsApi();
        return app;
    }
}
