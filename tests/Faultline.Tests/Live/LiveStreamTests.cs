using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Live;

/// <summary>GET /api/v1/live: committed events reach the subscribers whose filter they match, and no one else.</summary>
public sealed class LiveStreamTests : IAsyncLifetime
{
    private FaultlineApp _app = null!;
    private TestTenant _acme = null!;
    private TestTenant _globex = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(StoreKind.Sqlite);
        _acme = await _app.CreateTenantAsync("acme");
        _globex = await _app.CreateTenantAsync("globex");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<WebSocket> ConnectAsync(TestTenant caller, string query)
    {
        var client = _app.Server.CreateWebSocketClient();
        client.ConfigureRequest = request => request.Headers.Authorization = $"Bearer {caller.Token}";
        return await client.ConnectAsync(new Uri(_app.Server.BaseAddress, $"api/v1/live?{query}"), CancellationToken.None);
    }

    private async Task SendAsync(TestTenant tenant, string json)
    {
        var response = await _app.IngestClient(tenant.PublicKey).PostAsync("/api/v1/events", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>Messages received until nothing arrives for the quiet period.</summary>
    private static async Task<List<JsonElement>> ReceiveAllAsync(WebSocket socket, TimeSpan quiet)
    {
        var messages = new List<JsonElement>();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var timeout = new CancellationTokenSource(quiet);
            try
            {
                var result = await socket.ReceiveAsync(buffer, timeout.Token);
                messages.Add(JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement.Clone());
            }
            catch (OperationCanceledException)
            {
                return messages;
            }
        }
    }

    [Fact]
    public async Task A_subscriber_receives_exactly_the_committed_events_that_match_its_filter()
    {
        using var errors = await ConnectAsync(_acme, $"project={_acme.ProjectId}&level=error&query=payment");
        using var everything = await ConnectAsync(_acme, $"project={_acme.ProjectId}");
        using var globexOwn = await ConnectAsync(_globex, $"project={_globex.ProjectId}");

        await SendAsync(_acme, """[{"level":"error","message":"payment declined for order 7"},{"level":"warning","message":"payment slow"},{"level":"error","message":"cart empty"}]""");
        await SendAsync(_acme, """{"level":"error","exception":[{"type":"PaymentException","value":"gateway down"}],"environment":"production"}""");

        var matched = await ReceiveAllAsync(errors, TimeSpan.FromSeconds(2));
        var all = await ReceiveAllAsync(everything, TimeSpan.FromMilliseconds(500));
        var foreign = await ReceiveAllAsync(globexOwn, TimeSpan.FromMilliseconds(500));

        Assert.Equal(["payment declined for order 7", null], matched.Select(m => m.GetProperty("message").GetString()));
        Assert.Equal("PaymentException", matched[1].GetProperty("exceptionType").GetString());
        Assert.All(matched, m => Assert.Equal("event", m.GetProperty("type").GetString()));
        Assert.Equal(4, all.Count);
        Assert.Empty(foreign);
    }

    [Fact]
    public async Task Another_organizations_project_cannot_be_subscribed_to()
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(_globex, $"project={_acme.ProjectId}"));
        Assert.Contains("404", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_query_or_a_plain_http_request_is_a_400()
    {
        var badQuery = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(_acme, $"project={_acme.ProjectId}&query=is:resolved"));
        var plain = await _app.ApiClient(_acme.Token).GetAsync($"/api/v1/live?project={_acme.ProjectId}");

        Assert.Contains("400", badQuery.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
    }
}
