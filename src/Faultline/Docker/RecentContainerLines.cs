using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Faultline.Docker;

/// <summary>
/// The last few lines each container sent to a receiver, kept in memory so the watcher can attach
/// them to a "container died" event. Bounded in containers and lines; lost on restart by design
/// (the lines themselves are stored as events).
/// </summary>
public sealed class RecentContainerLines(IOptions<DockerOptions> options)
{
    private const int MaxContainers = 10_000;
    private readonly ConcurrentDictionary<string, Queue<string>> _lines = new(StringComparer.Ordinal);

    public void Add(ContainerLogLine line)
    {
        var keep = options.Value.RecentLinesPerContainer;
        if (keep == 0)
        {
            return;
        }
        foreach (var key in Keys(line.ContainerName, line.ContainerId))
        {
            if (_lines.Count >= MaxContainers && !_lines.ContainsKey(key))
            {
                _lines.Clear(); // crude but bounded: a flood of made-up names cannot grow this
            }
            var queue = _lines.GetOrAdd(key, _ => new Queue<string>());
            lock (queue)
            {
                queue.Enqueue(line.Message.Length > 2000 ? line.Message[..2000] : line.Message);
                while (queue.Count > keep)
                {
                    queue.Dequeue();
                }
            }
        }
    }

    /// <summary>The recent lines of a container by name or (full or short) id, oldest first.</summary>
    public IReadOnlyList<string> For(string? name, string? id)
    {
        foreach (var key in Keys(name, id))
        {
            if (_lines.TryGetValue(key, out var queue))
            {
                lock (queue)
                {
                    return [.. queue];
                }
            }
        }
        return [];
    }

    private static IEnumerable<string> Keys(string? name, string? id)
    {
        if (id is { Length: >= 12 })
        {
            yield return "id:" + id[..12];
        }
        if (!string.IsNullOrEmpty(name))
        {
            yield return "name:" + name.TrimStart('/');
        }
    }
}
