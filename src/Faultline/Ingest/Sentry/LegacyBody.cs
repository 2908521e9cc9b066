using System.IO.Compression;

namespace Faultline.Ingest.Sentry;

/// <summary>
/// Old Sentry clients (raven) post store bodies as base64 of zlib-compressed JSON instead of using
/// Content-Encoding. Anything that starts like JSON is passed through.
/// </summary>
internal static class LegacyBody
{
    private const int MaxInflatedBytes = 16 * 1024 * 1024;

    public static byte[] Decode(byte[] body)
    {
        var text = body.AsSpan().TrimStart(" \t\r\n"u8);
        if (text.Length == 0 || text[0] == (byte)'{' || text[0] == (byte)'[')
        {
            return body;
        }
        try
        {
            var compressed = Convert.FromBase64String(System.Text.Encoding.ASCII.GetString(text));
            using var inflater = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = inflater.Read(buffer)) > 0)
            {
                if (output.Length + read > MaxInflatedBytes)
                {
                    throw IngestRejectedException.TooLarge("The decoded event is too large.");
                }
                output.Write(buffer, 0, read);
            }
            return output.ToArray();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            throw IngestRejectedException.Malformed("The body is neither JSON nor base64-encoded zlib JSON.");
        }
    }
}
