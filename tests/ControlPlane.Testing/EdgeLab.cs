using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ControlPlane.Testing;

/// <summary>
/// A data center in miniature: an edge namespace holding the zone addresses and real
/// listeners, and a client namespace joined to it by a veth pair. Addresses come from
/// documentation ranges; neither namespace has a default route, so nothing leaves the
/// lab. Both namespaces are deleted on dispose.
/// </summary>
public sealed partial class EdgeLab : IDisposable
{
    /// <summary>Ports with a listener in the edge namespace: the plaintext set and two HTTPS ports.</summary>
    public static readonly int[] PlaintextPorts = [80, 8080, 8880, 2052, 2082, 2086, 2095];
    public static readonly int[] HttpsPorts = [443, 8443];

    private const int CloneNewNet = 0x40000000;
    private readonly List<Socket> listeners = [];
    private readonly CancellationTokenSource stopping = new();

    private EdgeLab(NetworkNamespace edge, NetworkNamespace client)
    {
        Edge = edge;
        Client = client;
    }

    public NetworkNamespace Edge { get; }

    public NetworkNamespace Client { get; }

    /// <summary>Creates the lab and starts echo listeners on every plaintext and HTTPS port.</summary>
    public static EdgeLab Create()
    {
        var edge = NetworkNamespace.Create();
        var client = NetworkNamespace.Create();
        var lab = new EdgeLab(edge, client);
        try
        {
            var suffix = edge.Name[^6..];
            NetworkNamespace.Run("ip", "link", "add", "cpe" + suffix, "netns", edge.Name, "type", "veth", "peer", "name", "cpc" + suffix, "netns", client.Name);
            Ip(edge, "addr", "add", "203.0.113.1/24", "dev", "cpe" + suffix);
            Ip(edge, "addr", "add", "2001:db8:ffff::1/64", "dev", "cpe" + suffix, "nodad");
            Ip(edge, "link", "set", "cpe" + suffix, "up");
            Ip(client, "addr", "add", "203.0.113.2/24", "dev", "cpc" + suffix);
            Ip(client, "addr", "add", "2001:db8:ffff::2/64", "dev", "cpc" + suffix, "nodad");
            Ip(client, "link", "set", "cpc" + suffix, "up");
            // Zone addresses live in 198.51.100.0/24 and 2001:db8:1::/64, behind the edge.
            Ip(client, "route", "add", "198.51.100.0/24", "via", "203.0.113.1");
            Ip(client, "-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:ffff::1");
            foreach (var port in PlaintextPorts.Concat(HttpsPorts))
            {
                lab.Listen(port);
            }

            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>Binds a zone address (v4 or v6 host) to the edge's loopback so the edge answers for it.</summary>
    public void BindZoneAddress(string address)
    {
        var ip = IPAddress.Parse(address);
        Ip(Edge, ip.AddressFamily == AddressFamily.InterNetworkV6 ? "-6" : "-4", "addr", "add",
            $"{ip}/{(ip.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32)}", "dev", "lo", "nodad");
    }

    /// <summary>Runs nft in the edge namespace (for tests that tamper with the table from outside).</summary>
    public string EdgeNft(params string[] arguments) =>
        NetworkNamespace.Run("ip", ["netns", "exec", Edge.Name, "nft", .. arguments]);

    /// <summary>
    /// Connects from the client namespace and exchanges a few bytes with the echo
    /// listener. Returns the socket error, or <see cref="SocketError.Success"/> when
    /// the bytes came back.
    /// </summary>
    public async Task<SocketError> TcpExchangeAsync(string address, int port)
    {
        var ip = IPAddress.Parse(address);
        using var socket = InNamespace(Client, () => new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await socket.ConnectAsync(ip, port, timeout.Token);
            var hello = "ping"u8.ToArray();
            await socket.SendAsync(hello, timeout.Token);
            var buffer = new byte[hello.Length];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(read), timeout.Token);
                if (n == 0)
                {
                    return SocketError.ConnectionReset;
                }

                read += n;
            }

            return buffer.AsSpan().SequenceEqual(hello) ? SocketError.Success : SocketError.ProtocolNotSupported;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
        catch (OperationCanceledException)
        {
            return SocketError.TimedOut;
        }
    }

    /// <summary>Sends a UDP datagram from the client namespace and reports the ICMP error, if any.</summary>
    public async Task<SocketError> UdpProbeAsync(string address, int port)
    {
        var ip = IPAddress.Parse(address);
        using var socket = InNamespace(Client, () => new Socket(ip.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        await socket.ConnectAsync(ip, port);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.SendAsync("probe"u8.ToArray(), timeout.Token);
            await socket.ReceiveAsync(new byte[16], timeout.Token);
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
        catch (OperationCanceledException)
        {
            return SocketError.TimedOut;
        }
    }

    /// <summary>
    /// Creates a socket inside a namespace: a network namespace belongs to a thread, and a
    /// socket keeps the namespace it was created in, so a short-lived thread enters the
    /// namespace, makes the socket and ends.
    /// </summary>
    public static T InNamespace<T>(NetworkNamespace ns, Func<T> create)
    {
        T? result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{ns.Name}");
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({ns.Name}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                result = create();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? result! : throw new InvalidOperationException($"could not create a socket in {ns.Name}", failure);
    }

    public void Dispose()
    {
        stopping.Cancel();
        foreach (var listener in listeners)
        {
            listener.Dispose();
        }

        Client.Dispose();
        Edge.Dispose();
        stopping.Dispose();
    }

    private static void Ip(NetworkNamespace ns, params string[] arguments) =>
        NetworkNamespace.Run("ip", ["-n", ns.Name, .. arguments]);

    private void Listen(int port)
    {
        var listener = InNamespace(Edge, () =>
        {
            var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
            socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            socket.Listen(512);
            return socket;
        });
        listeners.Add(listener);
        _ = Task.Run(() => AcceptLoopAsync(listener));
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (connection)
                {
                    var buffer = new byte[64];
                    try
                    {
                        int n;
                        while ((n = await connection.ReceiveAsync(buffer, stopping.Token)) > 0)
                        {
                            await connection.SendAsync(buffer.AsMemory(0, n), stopping.Token);
                        }
                    }
                    catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                    {
                        // The client went away or the lab is shutting down.
                    }
                }
            });
        }
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
