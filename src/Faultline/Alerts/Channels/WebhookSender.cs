using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Faultline.Alerts.Channels;

/// <summary>
/// Generic webhook: the notification as JSON, signed. Receivers check
/// <c>X-Faultline-Signature: v1=hex(HMAC-SHA256(secret, timestamp + "." + body))</c> and reject old
/// timestamps (docs/alerts.md has a verification example). <c>X-Faultline-Delivery</c> is the outbox
/// id: delivery is at-least-once, so receivers can drop repeats by it.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients, TimeProvider time) : IChannelSender
{
    public const string TimestampHeader = "X-Faultline-Timestamp";
    public const string SignatureHeader = "X-Faultline-Signature";
    public const string DeliveryHeader = "X-Faultline-Delivery";

    public string Type => "webhook";

    public async Task<string?> SendAsync(OutboxEntry entry, AlertChannel? channel, string? secret, CancellationToken cancellationToken)
    {
        var config = JsonSerializer.Deserialize<ChannelConfig>(channel!.Config, AlertNotifier.Json)!;
        var body = entry.Payload;
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Sign(secret ?? "", timestamp, body);
        await HttpDelivery.PostJsonAsync(clients.CreateClient(HttpDelivery.ClientName), new Uri(config.Url!), body, headers =>
        {
            headers.Add(TimestampHeader, timestamp);
            headers.Add(SignatureHeader, signature);
            headers.Add(DeliveryHeader, entry.Id.ToString(CultureInfo.InvariantCulture));
        }, "The webhook", cancellationToken);
        return null;
    }

    public static string Sign(string secret, string timestamp, string body) =>
        "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));
}
