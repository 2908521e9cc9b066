using System.CommandLine;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Faultline.Cli;

/// <summary>`faultline tail`: prints a project's events as they are committed, from the live WebSocket.</summary>
internal static class TailCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "The server's address", DefaultValueFactory = _ => "http://localhost:8100" };
        var token = new Option<string?>("--token") { Description = "An API token (default: the FAULTLINE_TOKEN environment variable)" };
        var project = new Option<long>("--project") { Description = "Project id", Required = true };
        var level = new Option<string?>("--level") { Description = "Only this level (e.g. error)" };
        var query = new Option<string?>("--query") { Description = "A search query, e.g. 'environment:production timeout'" };
        var json = new Option<bool>("--json") { Description = "Print each message as the JSON the server sent" };
        var command = new Command("tail", "Print a project's events live as they arrive") { url, token, project, level, query, json };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url)!, parse.GetValue(token) ?? Environment.GetEnvironmentVariable("FAULTLINE_TOKEN"),
            parse.GetValue(project), parse.GetValue(level), parse.GetValue(query), parse.GetValue(json), ct));
        return command;
    }

    private static async Task<int> RunAsync(string url, string? token, long project, string? level, string? query, bool json, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            await Console.Error.WriteLineAsync("error: give an API token with --token or FAULTLINE_TOKEN (create one with `faultline create-token`).");
            return 2;
        }
        var address = new UriBuilder(url.TrimEnd('/') + "/api/v1/live")
        {
            Scheme = url.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? "wss" : "ws",
            Query = $"project={project.ToString(CultureInfo.InvariantCulture)}"
                + (level is null ? "" : "&level=" + Uri.EscapeDataString(level))
                + (query is null ? "" : "&query=" + Uri.EscapeDataString(query)),
        }.Uri;
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        try
        {
            await socket.ConnectAsync(address, cancellationToken);
        }
        catch (WebSocketException e)
        {
            await Console.Error.WriteLineAsync($"error: could not subscribe to {address}: {e.Message}");
            return 2;
        }
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                message.Write(buffer, 0, result.Count);
                if (result.EndOfMessage)
                {
                    Console.WriteLine(json ? Encoding.UTF8.GetString(message.ToArray()) : Format(message.ToArray()));
                    message.SetLength(0);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C
        }
        return 0;
    }

    private static string Format(byte[] message)
    {
        using var document = JsonDocument.Parse(message);
        var root = document.RootElement;
        string Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
        return Text("type") == "dropped"
            ? $"... {root.GetProperty("count").GetInt64()} events dropped (the terminal could not keep up)"
            : $"{Text("timestamp")} {Text("level").ToUpperInvariant(),-7} {Text("title")}  [issue {root.GetProperty("issueId").GetInt64()}, {Text("eventId")}]";
    }
}
