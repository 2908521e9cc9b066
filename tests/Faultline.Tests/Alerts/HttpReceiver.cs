using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Faultline.Tests.Alerts;

/// <summary>A real HTTP server on a loopback port standing in for Slack, a webhook receiver or Jira: records every request and answers from a script.</summary>
public sealed class HttpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(int Status, string Body)> _answers = new();

    public sealed record Request(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

    private HttpReceiver(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>What to answer when no scripted answer is left.</summary>
    public (int Status, string Body) DefaultAnswer { get; set; } = (200, "ok");

    /// <summary>Answers the next requests with these, in order.</summary>
    public void Answer(params (int Status, string Body)[] answers)
    {
        foreach (var answer in answers)
        {
            _answers.Enqueue(answer);
        }
    }

    public static async Task<HttpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        HttpReceiver? receiver = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            receiver!.Requests.Enqueue(new Request(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body));
            var (status, answer) = receiver._answers.TryDequeue(out var scripted) ? scripted : receiver.DefaultAnswer;
            context.Response.StatusCode = status;
            context.Response.ContentType = answer.StartsWith('{') ? "application/json" : "text/plain";
            await context.Response.WriteAsync(answer);
        });
        await app.StartAsync();
        var bound = new Uri(app.Urls.First());
        receiver = new HttpReceiver(app, new Uri($"http://127.0.0.1:{bound.Port}/"));
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
