using System.Net;
using System.Net.Sockets;

namespace ControlPlane.Testing;

/// <summary>
/// A loopback TCP forwarder in front of a real service, so a test can take the service
/// away from exactly the clients it wants (<see cref="Cut"/>: open connections are reset
/// and new ones refused) and bring it back (<see cref="Restore"/>), without stopping the
/// service that other tests share.
/// </summary>
public sealed class TcpProxy : IDisposable
{
    private readonly IPEndPoint target;
    private readonly List<Socket> open = [];
    private TcpListener listener;
    private CancellationTokenSource running = new();

    public TcpProxy(string host, int port)
    {
        target = new IPEndPoint(IPAddress.Parse(host), port);
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync(listener, running.Token);
    }

    public int Port { get; }

    /// <summary>The service is gone: existing connections are reset, new ones refused.</summary>
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
    }

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
            await Task.WhenAny(CopyAsync(client, upstream, cancellationToken), CopyAsync(upstream, client, cancellationToken));
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

    private static async Task CopyAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, cancellationToken)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }
}
