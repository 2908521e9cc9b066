using System.Net;
using System.Text;
using Faultline.Tests.Infrastructure;

namespace Faultline.Tests.Sentry;

public sealed class RateLimitedEnvelopeTests : IAsyncLifetime
{
    private FaultlineApp _app = null!;
    private TestTenant _tenant = null!;

    public async Task InitializeAsync()
    {
        _app = await FaultlineApp.StartAsync(StoreKind.Sqlite, new Dictionary<string, string?>
        {
            ["Faultline:Ingest:RateLimit:EventsPerSecond"] = "0.01",
            ["Faultline:Ingest:RateLimit:Burst"] = "1",
        });
        _tenant = await _app.CreateTenantAsync("acme");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Over_the_limit_the_answer_is_429_with_sentry_rate_limit_headers()
    {
        var client = _app.CreateClient();
        HttpContent Envelope() => new StringContent("{}\n{\"type\":\"event\"}\n{\"message\":\"busy\"}", Encoding.UTF8, "text/plain");
        var path = $"/api/{_tenant.ProjectId}/envelope/?sentry_key={_tenant.PublicKey}";

        var first = await client.PostAsync(path, Envelope());
        var second = await client.PostAsync(path, Envelope());

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        var seconds = int.Parse(second.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, 200);
        Assert.Equal($"{seconds}:error;default:key", second.Headers.GetValues("X-Sentry-Rate-Limits").Single());
    }
}
