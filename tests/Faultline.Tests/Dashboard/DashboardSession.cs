using System.Net;
using System.Text.RegularExpressions;
using Faultline.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Faultline.Tests.Dashboard;

/// <summary>A browser-like HTTP client for the server-rendered dashboard: keeps cookies, posts forms with their antiforgery token.</summary>
public sealed partial class DashboardSession(HttpClient client) : IDisposable
{
    public HttpClient Client { get; } = client;

    public static DashboardSession Create(FaultlineApp app) =>
        new(app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true }));

    public static async Task<DashboardSession> SignedInAsync(FaultlineApp app, string email, string password = "a long enough password")
    {
        var session = Create(app);
        var response = await session.PostFormAsync("/login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = password });
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"Sign-in should redirect, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return session;
    }

    public async Task<(HttpStatusCode Status, string Html)> GetAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Loads the page, takes the antiforgery token of its form, and posts the form.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, string? handler, Dictionary<string, string> fields, string? tokenFrom = null)
    {
        var (_, html) = await GetAsync(tokenFrom ?? path);
        var token = Token().Match(html);
        Assert.True(token.Success, $"No antiforgery token on {tokenFrom ?? path}:\n{html}");
        var values = new List<KeyValuePair<string, string>>(fields) { new("__RequestVerificationToken", token.Groups[1].Value) };
        if (handler is not null)
        {
            values.Add(new("_handler", handler));
        }
        return await Client.PostAsync(path, new FormUrlEncodedContent(values));
    }

    public void Dispose() => Client.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
