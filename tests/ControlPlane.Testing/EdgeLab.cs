using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ControlPlane.Testing;

/// <summary>
/// A data center in miniature, built by <c>scripts/edge-lab</c>: the same shell code
/// that gives each DC of <c>scripts/up</c> its edge. An edge namespace answers for every
/// address of the lab's pools (AnyIP local routes), with Caddy terminating TLS on the
/// HTTPS ports and redirecting to https on the plaintext ports; a client namespace
/// ("the Internet") reaches it over a veth link. Neither has a default route, so
/// nothing leaves the lab. <see cref="Dispose"/> runs <c>scripts/edge-lab down</c>:
/// Caddy is stopped and both namespaces are deleted.
/// </summary>
public sealed partial class EdgeLab : IDisposable
{
    /// <summary>The plaintext HTTP ports (../shared/DESIGN.md §1): Caddy answers each with a redirect to https.</summary>
    public static readonly int[] PlaintextPorts = [80, 8080, 8880, 2052, 2082, 2086, 2095];

    /// <summary>The HTTPS ports: Caddy terminates TLS on each.</summary>
    public static readonly int[] HttpsPorts = [443, 2053, 2083, 2087, 2096, 8443];

    /// <summary>The pools a lab binds unless told otherwise; the tests' zone addresses come from here.</summary>
    public static readonly string[] DefaultPools = ["198.51.100.0/24", "2001:db8:1::/64"];

    private const int CloneNewNet = 0x40000000;
    private readonly TestCertificates? ownCertificates;
    private readonly string? ownDirectory;

    private EdgeLab(string dataCenter, string prefix, string labDirectory, TestCertificates? ownCertificates, bool ownsDirectory)
    {
        DataCenter = dataCenter;
        Edge = NetworkNamespace.Attach(prefix + dataCenter);
        Client = NetworkNamespace.Attach(prefix + dataCenter + "-inet");
        StateDirectory = Path.Combine(labDirectory, "edge", dataCenter);
        this.ownCertificates = ownCertificates;
        ownDirectory = ownsDirectory ? labDirectory : null;
    }

    /// <summary>The data-center code Caddy names in its responses (<c>ams served example.com over TLS</c>).</summary>
    public string DataCenter { get; }

    /// <summary>The edge namespace: the agent programs it, Caddy listens in it.</summary>
    public NetworkNamespace Edge { get; }

    /// <summary>The client namespace, named <c>&lt;edge&gt;-inet</c>.</summary>
    public NetworkNamespace Client { get; }

    /// <summary>Caddy's configuration, pidfile, log and certificates: <c>&lt;lab&gt;/edge/&lt;dc&gt;</c>, as under <c>scripts/up</c>.</summary>
    public string StateDirectory { get; }

    /// <summary>
    /// Creates the lab with <c>scripts/edge-lab up</c>. The namespaces are
    /// <c>&lt;prefix&gt;&lt;dc&gt;</c> and <c>&lt;prefix&gt;&lt;dc&gt;-inet</c>, with a fresh
    /// <c>cpt-xxxxxxxx-</c> prefix unless one is given. Caddy issues certificates from the CA
    /// of <paramref name="certificates"/> (from a CA of the lab's own when null) and keeps
    /// its state under <paramref name="labDirectory"/> (a temporary folder when null).
    /// Throws <see cref="InvalidOperationException"/> with the script's output when it fails.
    /// </summary>
    public static EdgeLab Create(
        string dataCenter = "lab", TestCertificates? certificates = null, string? namespacePrefix = null, string? labDirectory = null, IEnumerable<string>? pools = null)
    {
        var ownCertificates = certificates is null ? new TestCertificates() : null;
        var ca = certificates ?? ownCertificates!;
        var directory = labDirectory ?? Directory.CreateTempSubdirectory("cp-edge-lab-").FullName;
        var prefix = namespacePrefix ?? "cpt-" + Guid.NewGuid().ToString("N")[..8] + "-";
        var lab = new EdgeLab(dataCenter, prefix, directory, ownCertificates, labDirectory is null);
        try
        {
            RepositoryScript.Run("edge-lab", ["up", dataCenter, lab.Edge.Name, lab.Client.Name, lab.StateDirectory, ca.AuthorityPath, ca.AuthorityKeyPath, .. pools ?? DefaultPools]);
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>Runs nft in the edge namespace (for tests that tamper with the table from outside).</summary>
    public string EdgeNft(params string[] arguments) =>
        NetworkNamespace.Run("ip", ["netns", "exec", Edge.Name, "nft", .. arguments]);

    /// <summary>
    /// Connects from the client namespace, sends a plaintext HTTP request and reads the
    /// status line back. Returns <see cref="SocketError.Success"/> when a server answered
    /// <c>HTTP/1.x</c> (on a plaintext port, Caddy's redirect; on an HTTPS port, Go's 400
    /// for plain HTTP sent to TLS), otherwise the socket error:
    /// <see cref="SocketError.ConnectionRefused"/> for a TCP reset, <see cref="SocketError.TimedOut"/>
    /// after 5 s.
    /// </summary>
    public async Task<SocketError> TcpExchangeAsync(string address, int port)
    {
        var ip = IPAddress.Parse(address);
        using var socket = InNamespace(Client, () => new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await socket.ConnectAsync(ip, port, timeout.Token);
            await socket.SendAsync("GET / HTTP/1.1\r\nHost: lab.example\r\nConnection: close\r\n\r\n"u8.ToArray(), timeout.Token);
            var statusLine = new byte[7];
            var read = 0;
            while (read < statusLine.Length)
            {
                var n = await socket.ReceiveAsync(statusLine.AsMemory(read), timeout.Token);
                if (n == 0)
                {
                    return SocketError.ConnectionReset;
                }

                read += n;
            }

            return statusLine.AsSpan().SequenceEqual("HTTP/1."u8) ? SocketError.Success : SocketError.ProtocolNotSupported;
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

    /// <summary>Stops Caddy and deletes both namespaces (<c>scripts/edge-lab down</c>), then removes what the lab owns.</summary>
    public void Dispose()
    {
        RepositoryScript.Run("edge-lab", "down", Edge.Name, Client.Name, StateDirectory);
        ownCertificates?.Dispose();
        if (ownDirectory is not null)
        {
            Directory.Delete(ownDirectory, recursive: true);
        }
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
