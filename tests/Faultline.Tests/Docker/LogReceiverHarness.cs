using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Faultline.Docker;
using Faultline.Storage;
using Faultline.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Faultline.Tests.Docker;

/// <summary>
/// A server with log listeners on free ports, a tenant whose key is every listener's default project
/// key, the drop counters of this server only, and helpers to read what was stored.
/// </summary>
public sealed class LogReceiverHarness : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, long> _dropped = new();
    private readonly MeterListener _meters = new();

    private LogReceiverHarness(FaultlineApp app, TestTenant tenant, string defaultKey)
    {
        App = app;
        Tenant = tenant;
        DefaultKey = defaultKey;
        var scope = app.Services.GetRequiredService<IMeterFactory>();
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == scope && instrument.Name == "faultline.docker.dropped")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "reason")
                {
                    _dropped.AddOrUpdate((string)tag.Value!, value, (_, v) => v + value);
                }
            }
        });
        _meters.Start();
    }

    public FaultlineApp App { get; }
    public TestTenant Tenant { get; }

    /// <summary>A second key of the tenant's project, configured as each listener's default.</summary>
    public string DefaultKey { get; }

    public HttpClient Api => App.ApiClient(Tenant.Token);

    public static async Task<LogReceiverHarness> StartAsync(StoreKind kind, IReadOnlyDictionary<string, string?>? extra = null, params (string Name, LogProtocol Protocol)[] listeners)
    {
        var defaultKey = Guid.NewGuid().ToString("N");
        var settings = new Dictionary<string, string?>(extra ?? new Dictionary<string, string?>());
        foreach (var (name, protocol) in listeners)
        {
            settings[$"Faultline:Docker:Listeners:{name}:Protocol"] = protocol.ToString();
            settings[$"Faultline:Docker:Listeners:{name}:Port"] = "0";
            settings.TryAdd($"Faultline:Docker:Listeners:{name}:ProjectKey", defaultKey);
        }
        var app = await FaultlineApp.StartAsync(kind, settings);
        var tenant = await app.CreateTenantAsync("docker");
        await app.Services.GetRequiredService<IAccountStore>().CreateProjectKeyAsync(tenant.ProjectId, defaultKey, DateTimeOffset.UtcNow, default);
        return new LogReceiverHarness(app, tenant, defaultKey);
    }

    public int Port(string listener) =>
        App.Services.GetRequiredService<DockerLogReceivers>().BoundEndpoint(listener)?.Port
            ?? throw new InvalidOperationException($"listener {listener} is not bound");

    /// <summary>Every drop reason counted so far, for failure messages.</summary>
    public string DropSummary => string.Join(", ", _dropped.Select(d => $"{d.Key}={d.Value}"));

    public long Dropped(string reason)
    {
        _meters.RecordObservableInstruments();
        return _dropped.TryGetValue(reason, out var count) ? count : 0;
    }

    /// <summary>Events of the tenant's project matching a search, waiting until at least <paramref name="count"/> are stored.</summary>
    public async Task<List<JsonElement>> WaitForEventsAsync(string query, int count = 1, TimeSpan? patience = null)
    {
        var deadline = DateTimeOffset.UtcNow + (patience ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var items = await EventsAsync(query);
            if (items.Count >= count)
            {
                return items;
            }
            Assert.True(DateTimeOffset.UtcNow < deadline, $"Expected {count} events for '{query}', found {items.Count}.");
            await Task.Delay(100);
        }
    }

    public async Task<List<JsonElement>> EventsAsync(string query)
    {
        var response = await Api.GetAsync($"/api/v1/projects/{Tenant.ProjectId}/events?limit=100&query={Uri.EscapeDataString(query)}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return [.. body.GetProperty("items").EnumerateArray()];
    }

    public async Task<JsonElement> IssueAsync(long issueId)
    {
        var response = await Api.GetAsync($"/api/v1/issues/{issueId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Runs util-linux logger with the arguments; fails the test when it fails.</summary>
    public static async Task LoggerAsync(string? stdin, params string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/logger") { RedirectStandardInput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("logger did not start");
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }
        process.StandardInput.Close();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"logger {string.Join(' ', arguments)} failed: {error}");
    }

    public static string Tag(JsonElement storedEvent, string name) =>
        storedEvent.GetProperty("event").GetProperty("tags").TryGetProperty(name, out var value) ? value.GetString()! : "";

    public async ValueTask DisposeAsync()
    {
        _meters.Dispose();
        await App.DisposeAsync();
    }
}
