namespace Faultline.Retention;

/// <summary>Where archive objects go: a local folder or an S3-compatible bucket. Keys use '/' separators.</summary>
public interface IArchiveTarget
{
    /// <summary>A short description for logs and the CLI (folder path or s3://bucket/prefix).</summary>
    string Describe { get; }

    /// <summary>Stores the whole stream under the key, replacing an object of that key (a rerun after a crash writes the same key again).</summary>
    Task PutAsync(string key, Stream content, CancellationToken cancellationToken);

    /// <summary>Opens the object for reading, or null when it does not exist.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes the object; deleting a missing object is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);
}

/// <summary>The default target: a folder, written through a temporary file and a rename so a crash never leaves half an object.</summary>
public sealed class LocalFolderArchive(string root) : IArchiveTarget
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Describe => Root;

    public async Task PutAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await content.CopyToAsync(file, cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        Stream? stream = File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true) : null;
        return Task.FromResult(stream);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    private string PathOf(string key)
    {
        // Keys are built by ArchiveLayout from numbers and dates; this guards against anything else.
        var path = Path.GetFullPath(Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar)));
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Archive key '{key}' leaves the archive folder.", nameof(key));
        }
        return path;
    }
}
