using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Faultline.Alerts.Channels;

/// <summary>POSTs JSON for the HTTP channels and turns the answer into success or a <see cref="DeliveryException"/>.</summary>
public static class HttpDelivery
{
    public const string ClientName = "faultline-alerts";

    public static async Task<string> PostJsonAsync(HttpClient client, Uri url, string json, Action<HttpRequestHeaders>? headers, string what, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        headers?.Invoke(request.Headers);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new DeliveryException($"{what} could not be reached: {e.Message}", permanent: false, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DeliveryException($"{what} did not answer in time.", permanent: false, e);
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return body;
            }
            var status = (int)response.StatusCode;
            // Server trouble and throttling pass; any other client error will not get better by retrying.
            var transient = status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
            throw new DeliveryException($"{what} answered {status} {response.ReasonPhrase}: {Shorten(body)}", permanent: !transient);
        }
    }

    public static string Shorten(string text) => text.Length <= 500 ? text : text[..500] + "...";
}
