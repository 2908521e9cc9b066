using System.Net;
using System.Text;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Operations;

/// <summary>A running Faultline (real Kestrel, PostgreSQL) with events sent to it, scraped every second by a real Prometheus.</summary>
public sealed class ScrapedFaultline : IAsyncLifetime
{
    public const int AcceptedEvents = 3;

    public KestrelFaultline Server { get; private set; } = null!;
    public PrometheusServer Prometheus { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await KestrelFaultline.StartAsync(StoreKind.Postgres);
        var tenant = await Server.CreateTenantAsync("scraped");
        using var client = new HttpClient { BaseAddress = Server.Address };
        client.DefaultRequestHeaders.Add("X-Faultline-Key", tenant.PublicKey);
        var accepted = await client.PostAsync("/api/v1/events", new StringContent(
            """[{"message":"one","level":"error"},{"message":"two","level":"warning"},{"exception":{"values":[{"type":"TimeoutException","value":"db"}]}}]""",
            Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var refused = await client.PostAsync("/api/v1/events", new StringContent("""{"level":42}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Prometheus = await PrometheusServer.StartAsync(Server.Address);
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
            """sum(faultline_events_accepted_total{job="faultline",endpoint="native"})""", v => v >= ScrapedFaultline.AcceptedEvents, TimeSpan.FromSeconds(60));
        var rejected = await scraped.Prometheus.WaitForValueAsync(
            """sum(faultline_events_rejected_total{job="faultline",reason="invalid_event"})""", v => v >= 1, TimeSpan.FromSeconds(30));
        var up = await scraped.Prometheus.WaitForValueAsync("""up{job="faultline"}""", v => v == 1, TimeSpan.FromSeconds(30));

        Assert.True(accepted >= ScrapedFaultline.AcceptedEvents);
        Assert.True(rejected >= 1);
        Assert.Equal(1, up);
    }
}
