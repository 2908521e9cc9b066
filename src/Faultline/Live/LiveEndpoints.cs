using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using Faultline.Accounts;
using Faultline.Dashboard;
using Faultline.Pipeline;
using Faultline.Search;
using Faultline.Storage;

namespace Faultline.Live;

/// <summary>A committed event as a live subscriber receives it.</summary>
public sealed record LiveEventMessage(
    string Type, string EventId, long ProjectId, long IssueId, string Title, DateTimeOffset Timestamp, DateTimeOffset ReceivedAt,
    string Level, string? Message, string? ExceptionType, string? ExceptionValue, string? Environment, string? Release);

/// <summary>Sent after messages were dropped because the subscriber fell behind.</summary>
public sealed record LiveDroppedMessage(string Type, long Count);

public static class LiveEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IHostApplicationBuilder AddLive(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<LiveHub>();
        builder.Services.AddSingleton<ILivePublisher>(s => s.GetRequiredService<LiveHub>());
        builder.Services.AddSingleton<ICommittedBatchObserver>(s => s.GetRequiredService<LiveHub>());
        return builder;
    }

    public static IEndpointRouteBuilder MapLive(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/live", LiveAsync).RequireAuthorization(DashboardAuthentication.TokenOrCookiePolicy).WithName("LiveStream").WithTags("Live")
            .WithSummary("WebSocket: committed events of a project as they arrive (filters: level, query)");
        return app;
    }

    private static async Task<IResult> LiveAsync(
        HttpContext context, ClaimsPrincipal user, IAccountStore accounts, ILivePublisher publisher, TimeProvider time,
        long project, string? level = null, string? query = null)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem("Connect with a WebSocket (ws:// or wss://).", statusCode: StatusCodes.Status400BadRequest);
        }
        if (DashboardAuthentication.IsCrossSiteCookieRequest(context))
        {
            return TypedResults.Problem("A browser may use the session cookie only from this server's own pages.", statusCode: StatusCodes.Status403Forbidden);
        }
        LiveFilter filter;
        try
        {
            filter = LiveFilter.Parse(query, level, time.GetUtcNow());
        }
        catch (QuerySyntaxException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest, title: "Invalid query");
        }
        if (await accounts.GetProjectForUserAsync(user.UserId(), project, context.RequestAborted) is null)
        {
            return TypedResults.NotFound();
        }

        // Subscribed before the handshake completes, so an event committed right after the client
        // sees the connection open is not missed (it waits in the subscription's queue).
        using var subscription = publisher.Subscribe(project, filter);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var closed = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var receiving = DiscardUntilClosedAsync(socket, closed);
        try
        {
            while (await subscription.Events.WaitToReadAsync(closed.Token))
            {
                while (subscription.Events.TryRead(out var stored))
                {
                    await SendAsync(socket, ToMessage(stored), closed.Token);
                }
                if (subscription.TakeDropped() is > 0 and var dropped)
                {
                    await SendAsync(socket, new LiveDroppedMessage("dropped", dropped), closed.Token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // The client went away or the server is stopping.
        }
        await closed.CancelAsync();
        await receiving;
        return TypedResults.Empty;
    }

    private static LiveEventMessage ToMessage(StoredEvent stored)
    {
        var e = stored.Event.Event;
        var exception = e.PrimaryException;
        return new LiveEventMessage("event", e.EventId.ToString("N"), stored.Event.ProjectId, stored.IssueId, stored.Event.Title,
            e.Timestamp, stored.Event.ReceivedAt, Events.EventLevels.ToWire(e.Level), e.Message, exception?.Type, exception?.Value, e.Environment, e.Release);
    }

    private static Task SendAsync<T>(WebSocket socket, T message, CancellationToken cancellationToken) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message, Json), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>Subscribers only listen; reading is how a close from the client is noticed.</summary>
    private static async Task DiscardUntilClosedAsync(WebSocket socket, CancellationTokenSource closed)
    {
        var buffer = new byte[1024];
        try
        {
            while (!closed.IsCancellationRequested)
            {
                var result = await socket.ReceiveAsync(buffer, closed.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
        await closed.CancelAsync();
    }
}
