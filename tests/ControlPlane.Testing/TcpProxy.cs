using System.Net;
using System.Net.Sockets;

namespace ControlPlane.Testing;

/// <summary>
/// A loopback TCP forwarder in front of a real service, so a test can take the service
/// away from exactly the clients it wants (<see cref="Cut"/>: open connections are reset
/// and new ones refused) and bring it back (<see cref="Restore"/>), without stopping the
/// service that other tests share. <see cref="HoldReplies"/> makes the cut exact: what the
/// clients send still reaches the service, but nothing the service answers reaches them, so
/// a cut after it loses every answer given since (a publisher confirm, say) and nothing else.
/// </summary>
public sealed class TcpProxy : IDisposable
{
    private readonly IPEndPoint target;
    private readonly List<Socket> open = [];
    private TcpListener listener;
    private CancellationTokenSource running = new();
    private TaskCompletionSource? held;

    public TcpProxy(string host, int port)
    {
        target = new IPEndPoint(IPAddress.Parse(host), port);
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync(listener, running.Token);
    }

    public int Port { get; }

    /// <summary>The service is gone: existing connections are reset, new ones refused; held replies are lost with them.</summary>
    public void Cut()
    {
        running.Cancel();
        listener.Stop();
        lock (open)
        {
            foreach (var socket in open)
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Dispose();
            }

            open.Clear();
        }

        // Not released: the held copies stop on the cancelled token, so their bytes are gone.
        Interlocked.Exchange(ref held, null);
    }

    /// <summary>From now on, bytes from the service wait in the proxy (until <see cref="ReleaseReplies"/> or <see cref="Cut"/>); bytes to it still flow.</summary>
    public void HoldReplies() => Interlocked.CompareExchange(ref held, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);

    /// <summary>Held replies are delivered, and later ones flow again.</summary>
    public void ReleaseReplies() => Interlocked.Exchange(ref held, null)?.TrySetResult();

    /// <summary>The service is back, on the same port.</summary>
    public void Restore()
    {
        running = new CancellationTokenSource();
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _ = AcceptAsync(listener, running.Token);
    }

    public void Dispose()
    {
        Cut();
        running.Dispose();
    }

    private async Task AcceptAsync(TcpListener current, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await current.AcceptSocketAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = PipeAsync(client, cancellationToken);
        }
    }

    private async Task PipeAsync(Socket client, CancellationToken cancellationToken)
    {
        var upstream = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        lock (open)
        {
            open.Add(client);
            open.Add(upstream);
        }

        try
        {
            await upstream.ConnectAsync(target, cancellationToken);
            await Task.WhenAny(CopyAsync(client, upstream, holdable: false, cancellationToken), CopyAsync(upstream, client, holdable: true, cancellationToken));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Cut, or one side went away.
        }
        finally
        {
            lock (open)
            {
                open.Remove(client);
                open.Remove(upstream);
            }

            client.Dispose();
            upstream.Dispose();
        }
    }

    private async Task CopyAsync(Socket from, Socket to, bool holdable, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, cancellationToken)) > 0)
            {
                if (holdable && Volatile.Read(ref held) is { } hold)
                {
                    await hold.Task.WaitAsync(cancellationToken);
                }

                await to.SendAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }
}
