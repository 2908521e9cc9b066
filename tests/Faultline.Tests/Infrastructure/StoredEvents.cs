using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Faultline.Tests.Infrastructure;

/// <summary>Reads what the server stored through the query API, waiting briefly for events acknowledged but not yet visible.</summary>
public static class StoredEvents
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    /// <summary>GET /api/v1/events/{eventId}, retried until it exists; fails the test if it never does.</summary>
    public static async Task<JsonElement> WaitForEventAsync(HttpClient api, string eventId)
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (true)
        {
            var response = await api.GetAsync($"/api/v1/events/{eventId}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return await response.Content.ReadFromJsonAsync<JsonElement>();
            }
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"GET /api/v1/events/{eventId} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            Assert.True(DateTimeOffset.UtcNow < deadline, $"Event {eventId} was not stored within {Patience.TotalSeconds} s.");
            await Task.Delay(100);
        }
    }

    /// <summary>The project's issues (first page, most events first).</summary>
    public static async Task<JsonElement> IssuesAsync(HttpClient api, long projectId)
    {
        var response = await api.GetAsync($"/api/v1/projects/{projectId}/issues?sort=count");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items");
    }

    /// <summary>GET /api/v1/issues/{id} of the issue an event belongs to.</summary>
    public static async Task<JsonElement> IssueOfAsync(HttpClient api, JsonElement storedEvent)
    {
        var response = await api.GetAsync($"/api/v1/issues/{storedEvent.GetProperty("issueId").GetInt64()}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
