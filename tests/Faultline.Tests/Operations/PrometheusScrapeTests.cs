using System.Net;
using System.Text;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Operations;

/// <summary>A running Faultline (real Kestrel, PostgreSQL) with events sent to it, scraped every 5 s by a real Prometheus.</summary>
public sealed class ScrapedFaultline : IAsyncLifetime
{
    public const int AcceptedEvents = 3;

    public KestrelFaultline Server { get; private set; } = null!;
    public PrometheusServer Prometheus { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await KestrelFaultline.StartAsync(StoreKind.Postgres);
        // Two projects with events across levels, environments, releases and days, for the dashboards' queries.
        var shop = await Server.CreateTenantAsync("shop");
        var billing = await Server.CreateTenantAsync("billing");
        var now = DateTimeOffset.UtcNow;
        await SendAsync(shop.PublicKey, HttpStatusCode.Accepted, $$"""
            [{"message":"one","level":"error","environment":"production","release":"1.0.0"},
             {"message":"two","level":"warning","environment":"staging","release":"1.1.0"},
             {"exception":{"values":[{"type":"TimeoutException","value":"db"}]},"environment":"production","release":"1.1.0","timestamp":"{{now.AddDays(-2):O}}"}]
            """);
        await SendAsync(billing.PublicKey, HttpStatusCode.Accepted, $$"""
            [{"exception":{"values":[{"type":"InvalidOperationException","value":"card declined"}]},"level":"fatal","environment":"production","release":"1.0.0","timestamp":"{{now.AddDays(-1):O}}"},
             {"message":"no environment or release","level":"info"}]
            """);
        await SendAsync(shop.PublicKey, HttpStatusCode.BadRequest, """{"level":42}""");
        Prometheus = await PrometheusServer.StartAsync(Server.Address);
    }

    private async Task SendAsync(string key, HttpStatusCode expected, string json)
    {
        using var client = new HttpClient { BaseAddress = Server.Address };
        client.DefaultRequestHeaders.Add("X-Faultline-Key", key);
        var response = await client.PostAsync("/api/v1/events", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(expected == response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        await Prometheus.DisposeAsync();
        await Server.DisposeAsync();
    }
}

public sealed class PrometheusScrapeTests(ScrapedFaultline scraped) : IClassFixture<ScrapedFaultline>
{
    [Fact]
    public async Task Prometheus_scrapes_faultline_and_answers_the_accepted_events_counter()
    {
        var accepted = await scraped.Prometheus.WaitForValueAsync(
            """sum(faultline_events_accepted_total{job="faultline",endpoint="native"})""", v => v >= ScrapedFaultline.AcceptedEvents, TimeSpan.FromSeconds(120));
        var rejected = await scraped.Prometheus.WaitForValueAsync(
            """sum(faultline_events_rejected_total{job="faultline",reason="invalid_event"})""", v => v >= 1, TimeSpan.FromSeconds(30));
        var up = await scraped.Prometheus.WaitForValueAsync("""up{job="faultline"}""", v => v == 1, TimeSpan.FromSeconds(30));

        Assert.True(accepted >= ScrapedFaultline.AcceptedEvents);
        Assert.True(rejected >= 1);
        Assert.Equal(1, up);
    }
}
