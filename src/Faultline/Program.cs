using Faultline.Accounts;
using Faultline.Alerts;
using Faultline.Cli;
using Faultline.Dashboard;
using Faultline.Docker;
using Faultline.Ingest;
using Faultline.Ingest.Sentry;
using Faultline.Issues;
using Faultline.Live;
using Faultline.Operations;
using Faultline.Redis;
using Faultline.Retention;
using Faultline.Storage;

if (FaultlineCommandLine.IsAdminCommand(args))
{
    return await FaultlineCommandLine.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(FaultlineCommandLine.ServerArguments(args));
builder.AddStorage();
builder.AddStorageMaintenance();
builder.AddAccounts();
builder.AddIngest();
builder.AddLive();
builder.AddRedis();
builder.AddDocker();
builder.AddAlerts();
builder.AddOperations();
builder.AddDashboard();
builder.AddRetention();

var app = builder.Build();
app.UseOperations();
app.UseSentryPathPrefix();
app.UseRouting();
app.UseMiddleware<QueryBindingProblems>();
app.UseCors();
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
app.UseAuthentication();
app.UseAuthorization();
app.MapIngest();
app.MapQueryApi();
app.MapAccountsApi();
app.MapLive();
app.MapRetention();
app.MapAlerts();
app.MapDocker();
app.MapOperations();
app.MapDashboard();

await app.RunAsync();
return 0;

/// <summary>Entry point type, public so integration tests can host the server.</summary>
public partial class Program;
