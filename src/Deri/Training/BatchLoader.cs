namespace Deri.Training;

/// <summary>
/// Yields the batches of one epoch in order, loading up to <c>depth</c> batches ahead on background
/// threads (depth 0: on the calling thread). Batches are issued in order, so a failing load surfaces
/// exactly at the step that needed it. Disposing drops batches loaded ahead.
/// </summary>
internal sealed class BatchLoader<TBatch> : IDisposable where TBatch : IDisposable
{
    private readonly ITrainingData<TBatch> _data;
    private readonly int[] _order;
    private readonly int _batchSize;
    private readonly int _end;
    private readonly int _depth;
    private readonly Queue<Task<TBatch>> _ahead = new();
    private int _nextToIssue;

    /// <param name="data">The records.</param>
    /// <param name="order">Record indices in visiting order.</param>
    /// <param name="batchSize">Records per batch; batch k covers order[k·B .. min((k+1)·B, n)).</param>
    /// <param name="start">First batch index.</param>
    /// <param name="end">One past the last batch index.</param>
    /// <param name="depth">Batches loaded ahead in the background.</param>
    public BatchLoader(ITrainingData<TBatch> data, int[] order, int batchSize, int start, int end, int depth)
    {
        _data = data;
        _order = order;
        _batchSize = batchSize;
        _end = end;
        _depth = depth;
        _nextToIssue = start;
        Fill();
    }

    /// <summary>The next batch; the caller disposes it.</summary>
    public TBatch Next()
    {
        if (_depth == 0)
        {
            if (_nextToIssue >= _end) throw new InvalidOperationException("no batches left in this epoch");
            return LoadBatch(_nextToIssue++);
        }
        if (_ahead.Count == 0) throw new InvalidOperationException("no batches left in this epoch");
        var task = _ahead.Dequeue();
        Fill();
        return task.GetAwaiter().GetResult();
    }

    private void Fill()
    {
        while (_depth > 0 && _ahead.Count < _depth && _nextToIssue < _end)
        {
            int k = _nextToIssue++;
            _ahead.Enqueue(Task.Run(() => LoadBatch(k)));
        }
    }

    private TBatch LoadBatch(int k)
    {
        int from = k * _batchSize;
        int to = Math.Min(from + _batchSize, _order.Length);
        return _data.Load(_order.AsSpan(from, to - from));
    }

    public void Dispose()
    {
        while (_ahead.Count > 0)
        {
            var task = _ahead.Dequeue();
            try
            {
                task.GetAwaiter().GetResult().Dispose();
            }
            catch (Exception)
            {
                // A batch loaded ahead failed after the run stopped for another reason; that reason is what matters.
            }
        }
    }
}
