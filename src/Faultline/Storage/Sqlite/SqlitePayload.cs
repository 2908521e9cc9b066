using System.Data.Common;
using System.IO.Compression;
using System.Text;

namespace Faultline.Storage.Sqlite;

/// <summary>
/// Event payloads on SQLite are Brotli-compressed BLOBs. A typical 1-2 KB payload row filled a 4 KB page
/// on its own, and every page a batch touches is written whole to the WAL; compressed rows share pages.
/// Rows written before (TEXT) are read as they are.
/// </summary>
internal static class SqlitePayload
{
    // Quality 1 (of 11): most of the gain on JSON for a fraction of the CPU of higher qualities.
    private const int Quality = 1;
    private const int Window = 22;

    public static byte[] Compress(ReadOnlySpan<byte> json)
    {
        var buffer = new byte[BrotliEncoder.GetMaxCompressedLength(json.Length)];
        if (!BrotliEncoder.TryCompress(json, buffer, out var written, Quality, Window))
        {
            throw new InvalidOperationException("Brotli could not compress an event payload.");
        }
        return buffer.AsSpan(0, written).ToArray();
    }

    public static string Read(DbDataReader reader, int ordinal)
    {
        if (reader.GetValue(ordinal) is not byte[] compressed)
        {
            return reader.GetString(ordinal);
        }
        using var input = new MemoryStream(compressed, writable: false);
        using var brotli = new BrotliStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream(compressed.Length * 4);
        brotli.CopyTo(output);
        return Encoding.UTF8.GetString(output.GetBuffer(), 0, (int)output.Length);
    }
}
