using Faultline.Storage;

namespace Faultline.Pipeline;

/// <summary>
/// Follow-up work (live stream, alert rules) that hears about events only after they are committed.
/// Called on the writer's loop: implementations must hand the batch off and return at once.
/// </summary>
public interface ICommittedBatchObserver
{
    void OnCommitted(BatchWriteResult batch);
}
