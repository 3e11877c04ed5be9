using System.Threading.Channels;
using ControlPlane.Contracts;
using MassTransit;

namespace EdgeAgent.Sync;

/// <summary>
/// Hands changes from the broker to the one loop that applies them, in arrival order, and says
/// when the DC's queue is bound: only revisions published after that reach the agent.
/// </summary>
public sealed class ChangeFeed
{
    private readonly Channel<EdgeChangeRecorded> channel = Channel.CreateUnbounded<EdgeChangeRecorded>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource queueBound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ChannelReader<EdgeChangeRecorded> Reader => channel.Reader;

    /// <summary>
    /// Completes once the DC's queue exists and is bound to the change exchange (the receive
    /// endpoint is ready). A snapshot fetched after this misses nothing: every later revision is
    /// in the queue. A revision published before it reached no queue of this DC.
    /// </summary>
    public Task QueueBound => queueBound.Task;

    public ValueTask WriteAsync(EdgeChangeRecorded change, CancellationToken cancellationToken) => channel.Writer.WriteAsync(change, cancellationToken);

    /// <summary>Called when the receive endpoint reports ready; later calls change nothing.</summary>
    public void MarkQueueBound() => queueBound.TrySetResult();
}

/// <summary>
/// Takes changes off the DC's queue. Ordering, dedup and gap handling happen in
/// <see cref="EdgeSync"/>; a change lost between here and the kernel (a crash) is
/// recovered by the snapshot the agent fetches at every start.
/// </summary>
public sealed class EdgeChangeRecordedConsumer(ChangeFeed feed) : IConsumer<EdgeChangeRecorded>
{
    public Task Consume(ConsumeContext<EdgeChangeRecorded> context) => feed.WriteAsync(context.Message, context.CancellationToken).AsTask();
}

/// <summary>Marks the <see cref="ChangeFeed"/> bound when the DC's receive endpoint is ready (its queue declared and bound).</summary>
public sealed class ChangeQueueObserver(ChangeFeed feed) : IReceiveEndpointObserver
{
    public Task Ready(ReceiveEndpointReady ready)
    {
        feed.MarkQueueBound();
        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;
}
