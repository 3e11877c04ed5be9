using System.Threading.Channels;
using ControlPlane.Contracts;
using MassTransit;

namespace EdgeAgent.Sync;

/// <summary>Hands changes from the broker to the one loop that applies them, in arrival order.</summary>
public sealed class ChangeFeed
{
    private readonly Channel<EdgeChangeRecorded> channel = Channel.CreateUnbounded<EdgeChangeRecorded>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<EdgeChangeRecorded> Reader => channel.Reader;

    public ValueTask WriteAsync(EdgeChangeRecorded change, CancellationToken cancellationToken) => channel.Writer.WriteAsync(change, cancellationToken);
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
