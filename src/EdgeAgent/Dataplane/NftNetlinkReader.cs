using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace EdgeAgent.Dataplane;

/// <summary>
/// One element of a set as the kernel holds it, and its packet counter if it has one. The text is
/// what <see cref="EdgeAddress"/> writes: an address in .NET's canonical form, a prefix as
/// <c>address/length</c>, and a range that is no prefix as <c>first-last</c>.
/// </summary>
public sealed record KernelElement(string Text, long? Packets);

/// <summary>
/// Reads set elements (with their counters) and rule comments straight from nf_tables over
/// netlink (<c>NETLINK_NETFILTER</c> dumps of <c>NFT_MSG_GETSETELEM</c> and <c>NFT_MSG_GETRULE</c>).
/// </summary>
/// <remarks>
/// nft 1.0.6 fills its cache with every element of every set of the table before any listing, so
/// listing one 100k-element set costs a second or more, and any read of the table costs the whole
/// table. A netlink dump returns exactly the set asked for and nothing else. This is the read half
/// of the dataplane; writes stay with nft batches (through libnftables or the binary). Each dump and
/// each watch opens its own socket from a short-lived thread that first enters the data center's
/// namespace (<c>setns</c>), so the socket belongs to that namespace while the agent stays in its own.
/// </remarks>
public sealed partial class NftNetlinkReader
{
    private const int AfNetlink = 16;
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int NetlinkNetfilter = 12;
    private const int CloneNewNet = 0x40000000;

    private const ushort NlmsgError = 2;
    private const ushort NlmsgDone = 3;
    private const ushort NlmFRequest = 0x1;
    private const ushort NlmFDump = 0x300;
    private const int HeaderLength = 16;

    private const int NfnlSubsysNftables = 10;
    private const int NftMsgGetRule = 7;
    private const int NftMsgGetSetElem = 13;
    private const byte NfprotoInet = 1;

    // nf_tables attribute numbers (linux/netfilter/nf_tables.h).
    private const int NftaRuleTable = 1;
    private const int NftaRuleChain = 2;
    private const int NftaRuleUserdata = 7;
    private const int NftaSetElemListTable = 1;
    private const int NftaSetElemListSet = 2;
    private const int NftaSetElemListElements = 3;
    private const int NftaListElem = 1;
    private const int NftaSetElemKey = 1;
    private const int NftaSetElemFlags = 3;
    private const int NftaSetElemExpr = 7;
    private const int NftaSetElemExpressions = 11;
    private const int NftaDataValue = 1;
    private const int NftaExprName = 1;
    private const int NftaExprData = 2;
    private const int NftaCounterPackets = 2;
    private const uint NftSetElemIntervalEnd = 1;
    private const byte UdataRuleComment = 0;

    private const int Enoent = 2;
    private const int Eagain = 11;
    private const int Eintr = 4;
    private const int Enobufs = 105;

    // The nf_tables multicast group, and the message announcing a committed generation.
    private const int NfnlgrpNftables = 7;
    private const int NftMsgNewGen = 15;
    private const int NftaGenId = 1;
    private const int NftaGenProcPid = 2;
    private const int NftaGenProcName = 3;
    private const int SolSocket = 1;
    private const int SoRcvtimeo = 20;
    private const int SoRcvbufforce = 33;

    private readonly string? networkNamespace;
    private int sequence;

    /// <param name="networkNamespace">The namespace (<c>/run/netns/NAME</c>) to read; null or empty for the agent's own.</param>
    public NftNetlinkReader(string? networkNamespace) => this.networkNamespace = networkNamespace;

    /// <summary>
    /// Every element of one set of an <c>inet</c> table: single addresses as canonical text, ranges
    /// of an interval set as a prefix (<c>a/len</c>) or, when they are no prefix, <c>a-b</c>.
    /// </summary>
    /// <returns>
    /// The elements. A set or table that does not exist reads as empty: the kernel ends such a
    /// dump without an error, so structure checks (which sets exist) are the listing's job.
    /// </returns>
    /// <exception cref="NftException">The kernel refused the dump for another reason, or the socket failed.</exception>
    /// <exception cref="DataplaneUnavailableException">The namespace cannot be entered.</exception>
    public Task<IReadOnlyList<KernelElement>> ReadSetAsync(string table, AddressSet set, CancellationToken cancellationToken) =>
        Task.Run<IReadOnlyList<KernelElement>>(() => ReadSet(table, set), cancellationToken);

    /// <summary>The ports of an <c>inet_service</c> set, in ascending order; empty when it does not exist.</summary>
    /// <exception cref="NftException">The kernel refused the dump for another reason, or the socket failed.</exception>
    /// <exception cref="DataplaneUnavailableException">The namespace cannot be entered.</exception>
    public Task<IReadOnlyList<int>> ReadPortsAsync(string table, string setName, CancellationToken cancellationToken) =>
        Task.Run<IReadOnlyList<int>>(() => ReadKeys(table, setName).Where(k => !k.IntervalEnd && k.Key.Length == 2)
            .Select(k => (int)BinaryPrimitives.ReadUInt16BigEndian(k.Key)).Order().ToList(), cancellationToken);

    /// <summary>The comment of each rule of one chain of an <c>inet</c> table, in order ("" for a rule without one); empty when the chain does not exist.</summary>
    /// <exception cref="NftException">The kernel refused the dump for another reason, or the socket failed.</exception>
    /// <exception cref="DataplaneUnavailableException">The namespace cannot be entered.</exception>
    public Task<IReadOnlyList<string>> ReadRuleCommentsAsync(string table, string chain, CancellationToken cancellationToken) =>
        Task.Run<IReadOnlyList<string>>(() => ReadRuleComments(table, chain), cancellationToken);

    /// <summary>
    /// Every ruleset generation committed in the namespace, with the process that wrote it, as the
    /// kernel announces it on the nf_tables multicast group (what <c>nft monitor</c> prints as
    /// <c># new generation N by process P</c>), until cancelled. No child process is involved, so
    /// nothing outlives the agent. When the kernel had to drop events (the socket's buffer
    /// overflowed during a large batch), a generation with id -1 and process id 0 is yielded, so
    /// the caller checks rather than trusts that nothing happened.
    /// </summary>
    /// <exception cref="NftException">The socket failed.</exception>
    /// <exception cref="DataplaneUnavailableException">The namespace cannot be entered.</exception>
    public async IAsyncEnumerable<RulesetGeneration> WatchGenerationsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var fd = OpenInNamespace();
        try
        {
            Join(fd);
            var buffer = new byte[1 << 16];
            while (!cancellationToken.IsCancellationRequested)
            {
                // recv wakes at least every second (SO_RCVTIMEO) to see the cancellation.
                var (received, errno) = await Task.Run(() => ((int)Receive(fd, buffer, buffer.Length, 0), Marshal.GetLastPInvokeError()), CancellationToken.None);
                if (received < 0)
                {
                    if (errno == Enobufs)
                    {
                        yield return new RulesetGeneration(-1, 0, "(events lost)");
                    }
                    else if (errno is not (Eagain or Eintr))
                    {
                        throw new NftException($"netlink recv on the nf_tables group failed: errno {errno}");
                    }

                    continue;
                }

                foreach (var generation in Generations(buffer.AsMemory(0, received)))
                {
                    yield return generation;
                }
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private List<KernelElement> ReadSet(string table, AddressSet set)
    {
        var singles = new List<KernelElement>();
        var starts = new List<(UInt128 Key, long? Packets)>();
        var ends = new List<UInt128>();
        var width = set.IsV6 ? 16 : 4;
        foreach (var read in ReadKeys(table, set.Name).Where(k => k.Key.Length == width))
        {
            if (!set.Interval)
            {
                singles.Add(new KernelElement(new IPAddress(read.Key).ToString(), read.Packets));
            }
            else if (read.IntervalEnd)
            {
                ends.Add(ToNumber(read.Key));
            }
            else
            {
                starts.Add((ToNumber(read.Key), read.Packets));
            }
        }

        return set.Interval ? Ranges(starts, ends, set.IsV6) : singles;
    }

    private List<(byte[] Key, bool IntervalEnd, long? Packets)> ReadKeys(string table, string setName)
    {
        var keys = new List<(byte[] Key, bool IntervalEnd, long? Packets)>();
        foreach (var message in Dump(NftMsgGetSetElem, [(NftaSetElemListTable, table), (NftaSetElemListSet, setName)]))
        {
            foreach (var (type, list) in Attributes(message))
            {
                if (type != NftaSetElemListElements)
                {
                    continue;
                }

                foreach (var (elemType, element) in Attributes(list))
                {
                    if (elemType == NftaListElem && ReadElement(element) is { Key.Length: > 0 } read)
                    {
                        keys.Add(read);
                    }
                }
            }
        }

        return keys;
    }

    private List<string> ReadRuleComments(string table, string chain)
    {
        var messages = Dump(NftMsgGetRule, [(NftaRuleTable, table), (NftaRuleChain, chain)]);
        var comments = new List<string>();
        foreach (var message in messages)
        {
            var comment = "";
            var inChain = false;
            foreach (var (type, value) in Attributes(message))
            {
                if (type == NftaRuleChain)
                {
                    inChain = Text(value) == chain;
                }
                else if (type == NftaRuleUserdata)
                {
                    comment = UserdataComment(value);
                }
            }

            if (inChain)
            {
                comments.Add(comment);
            }
        }

        return comments;
    }

    /// <summary>Ranges from an interval set's start and end elements: each start runs to the nearest end above it (exclusive).</summary>
    private static List<KernelElement> Ranges(List<(UInt128 Key, long? Packets)> starts, List<UInt128> ends, bool isV6)
    {
        ends.Sort();
        var top = isV6 ? UInt128.MaxValue : uint.MaxValue;
        var result = new List<KernelElement>();
        foreach (var (start, packets) in starts.OrderBy(s => s.Key))
        {
            var endIndex = ends.BinarySearch(start + 1);
            endIndex = endIndex >= 0 ? endIndex : ~endIndex;
            var last = endIndex < ends.Count ? ends[endIndex] - 1 : top;
            result.Add(new KernelElement(RangeText(start, last, isV6), packets));
        }

        return result;
    }

    private static string RangeText(UInt128 first, UInt128 last, bool isV6)
    {
        var bits = isV6 ? 128 : 32;
        var size = last - first + 1;
        var isPrefix = size != 0 && (size & (size - 1)) == 0 && (first & (size - 1)) == 0;
        if (first == last)
        {
            return Address(first, isV6).ToString();
        }

        if (isPrefix)
        {
            return $"{Address(first, isV6)}/{bits - (int)UInt128.Log2(size)}";
        }

        // The whole space (size wrapped to 0) or a range that is no prefix: kept verbatim, as drift.
        return first == 0 && last == (isV6 ? UInt128.MaxValue : uint.MaxValue)
            ? $"{Address(first, isV6)}/0"
            : $"{Address(first, isV6)}-{Address(last, isV6)}";
    }

    private static IPAddress Address(UInt128 value, bool isV6)
    {
        var bytes = new byte[isV6 ? 16 : 4];
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xff);
            value >>= 8;
        }

        return new IPAddress(bytes);
    }

    private static UInt128 ToNumber(byte[] bytes)
    {
        UInt128 value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }

        return value;
    }

    private static (byte[] Key, bool IntervalEnd, long? Packets)? ReadElement(ReadOnlyMemory<byte> element)
    {
        byte[] key = [];
        var intervalEnd = false;
        long? packets = null;
        foreach (var (type, value) in Attributes(element))
        {
            switch (type)
            {
                case NftaSetElemKey:
                    foreach (var (dataType, data) in Attributes(value))
                    {
                        if (dataType == NftaDataValue)
                        {
                            key = data.ToArray();
                        }
                    }

                    break;
                case NftaSetElemFlags when value.Length >= 4:
                    intervalEnd = (BinaryPrimitives.ReadUInt32BigEndian(value.Span) & NftSetElemIntervalEnd) != 0;
                    break;
                case NftaSetElemExpr:
                    packets ??= CounterPackets(value);
                    break;
                case NftaSetElemExpressions:
                    foreach (var (listType, expression) in Attributes(value))
                    {
                        if (listType == NftaListElem)
                        {
                            packets ??= CounterPackets(expression);
                        }
                    }

                    break;
            }
        }

        return (key, intervalEnd, packets);
    }

    /// <summary>The packet count of a <c>counter</c> expression; null for any other expression.</summary>
    private static long? CounterPackets(ReadOnlyMemory<byte> expression)
    {
        var isCounter = false;
        long? packets = null;
        foreach (var (type, value) in Attributes(expression))
        {
            if (type == NftaExprName)
            {
                isCounter = Text(value) == "counter";
            }
            else if (type == NftaExprData)
            {
                foreach (var (counterType, counter) in Attributes(value))
                {
                    if (counterType == NftaCounterPackets && counter.Length >= 8)
                    {
                        packets = (long)BinaryPrimitives.ReadUInt64BigEndian(counter.Span);
                    }
                }
            }
        }

        return isCounter ? packets : null;
    }

    /// <summary>The rule comment in nftables' user data: a list of (type u8, length u8, value) records.</summary>
    private static string UserdataComment(ReadOnlyMemory<byte> userdata)
    {
        var span = userdata.Span;
        for (var at = 0; at + 2 <= span.Length;)
        {
            var type = span[at];
            var length = span[at + 1];
            if (at + 2 + length > span.Length)
            {
                break;
            }

            if (type == UdataRuleComment)
            {
                return Encoding.UTF8.GetString(span.Slice(at + 2, length)).TrimEnd('\0');
            }

            at += 2 + length;
        }

        return "";
    }

    private static string Text(ReadOnlyMemory<byte> value) => Encoding.UTF8.GetString(value.Span).TrimEnd('\0');

    /// <summary>The netlink attributes (type without the nested/byte-order flags, value) in a buffer.</summary>
    private static List<(int Type, ReadOnlyMemory<byte> Value)> Attributes(ReadOnlyMemory<byte> buffer)
    {
        var result = new List<(int, ReadOnlyMemory<byte>)>();
        var span = buffer.Span;
        for (var at = 0; at + 4 <= span.Length;)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(span[at..]);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(span[(at + 2)..]) & 0x3fff;
            if (length < 4 || at + length > span.Length)
            {
                break;
            }

            result.Add((type, buffer.Slice(at + 4, length - 4)));
            at += (length + 3) & ~3;
        }

        return result;
    }

    /// <summary>Sends one dump request and collects the payloads (after the 4-byte nfgenmsg) of every reply; none on ENOENT.</summary>
    private List<ReadOnlyMemory<byte>> Dump(int message, (int Type, string Value)[] attributes)
    {
        // A socket per dump (a thread, a setns, a socket: well under a millisecond), so a namespace
        // deleted and added again is followed, as the write path follows it.
        var fd = OpenInNamespace();
        try
        {
            var seq = (uint)Interlocked.Increment(ref sequence);
            var request = Request(message, seq, attributes);
            if (Send(fd, request, request.Length, 0) != request.Length)
            {
                throw Failure("send");
            }

            var payloads = new List<ReadOnlyMemory<byte>>();
            var buffer = new byte[1 << 20];
            while (true)
            {
                var received = (int)Receive(fd, buffer, buffer.Length, 0);
                if (received < 0)
                {
                    throw Failure("recv");
                }

                for (var at = 0; at + HeaderLength <= received;)
                {
                    var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(at));
                    var type = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(at + 4));
                    var replySeq = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(at + 8));
                    if (length < HeaderLength || at + length > received)
                    {
                        throw new NftException("netlink: a truncated reply");
                    }

                    if (replySeq == seq)
                    {
                        // A dump that fails at its start (no such table or set) ends with DONE carrying
                        // the negative errno; a request refused outright gets ERROR with it.
                        if (type is NlmsgDone or NlmsgError)
                        {
                            var error = length >= HeaderLength + 4 ? -BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(at + HeaderLength)) : 0;
                            return error is 0 or Enoent ? payloads : throw new NftException($"netlink dump refused: errno {error}");
                        }

                        // Copied: the buffer is reused for the next receive.
                        payloads.Add(buffer.AsSpan(at + HeaderLength + 4, length - HeaderLength - 4).ToArray());
                    }

                    at += (length + 3) & ~3;
                }
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static byte[] Request(int message, uint seq, (int Type, string Value)[] attributes)
    {
        var body = new List<byte> { NfprotoInet, 0, 0, 0 };
        foreach (var (type, value) in attributes)
        {
            var text = Encoding.UTF8.GetBytes(value + "\0");
            var length = 4 + text.Length;
            body.AddRange(BitConverter.GetBytes((ushort)length));
            body.AddRange(BitConverter.GetBytes((ushort)type));
            body.AddRange(text);
            while (body.Count % 4 != 0)
            {
                body.Add(0);
            }
        }

        var request = new byte[HeaderLength + body.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(4), (ushort)((NfnlSubsysNftables << 8) | message));
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(6), NlmFRequest | NlmFDump);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), seq);
        body.CopyTo(request, HeaderLength);
        return request;
    }

    /// <summary>The announcements of committed generations in a buffer of received messages.</summary>
    private static List<RulesetGeneration> Generations(ReadOnlyMemory<byte> messages)
    {
        var found = new List<RulesetGeneration>();
        var span = messages.Span;
        for (var at = 0; at + HeaderLength <= span.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(span[at..]);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(span[(at + 4)..]);
            if (length < HeaderLength || at + length > span.Length)
            {
                break;
            }

            if (type == ((NfnlSubsysNftables << 8) | NftMsgNewGen) && length >= HeaderLength + 4)
            {
                long id = 0;
                var pid = 0;
                var name = "";
                foreach (var (attribute, value) in Attributes(messages.Slice(at + HeaderLength + 4, length - HeaderLength - 4)))
                {
                    if (attribute == NftaGenId && value.Length >= 4)
                    {
                        id = BinaryPrimitives.ReadUInt32BigEndian(value.Span);
                    }
                    else if (attribute == NftaGenProcPid && value.Length >= 4)
                    {
                        pid = (int)BinaryPrimitives.ReadUInt32BigEndian(value.Span);
                    }
                    else if (attribute == NftaGenProcName)
                    {
                        name = Text(value);
                    }
                }

                found.Add(new RulesetGeneration(id, pid, name));
            }

            at += (length + 3) & ~3;
        }

        return found;
    }

    /// <summary>Joins the nf_tables group, with a receive timeout and a buffer for large batches' events.</summary>
    private static void Join(int fd)
    {
        // Bound to the group, as nft monitor does. struct sockaddr_nl: family (u16), pad (u16),
        // port id (u32, 0 = the kernel assigns one), groups (u32 bitmask, group n is bit n-1).
        var address = new byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(address, AfNetlink);
        BinaryPrimitives.WriteUInt32LittleEndian(address.AsSpan(8), 1u << (NfnlgrpNftables - 1));
        if (Bind(fd, address, address.Length) != 0)
        {
            throw Failure("bind");
        }

        // 1 s timeout (struct timeval: seconds, microseconds as 64-bit longs).
        var timeout = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(timeout, 1);
        // Every element of a batch is announced too; 32 MB holds a 100k-zone converge's events.
        var size = BitConverter.GetBytes(32 << 20);
        if (SetOption(fd, SolSocket, SoRcvtimeo, timeout, timeout.Length) != 0)
        {
            throw Failure("setsockopt");
        }

        // Needs CAP_NET_ADMIN, which the agent has; without it the default buffer only means more
        // "events lost" checks.
        _ = SetOption(fd, SolSocket, SoRcvbufforce, size, size.Length);
    }

    /// <summary>A new netlink socket in the namespace, opened by a short-lived thread that entered it.</summary>
    private int OpenInNamespace()
    {
        var opened = -1;
        Exception? failure = null;
        var opener = new Thread(() =>
        {
            try
            {
                if (!string.IsNullOrEmpty(networkNamespace))
                {
                    using SafeFileHandle handle = File.OpenHandle($"/run/netns/{networkNamespace}");
                    if (SetNamespace(handle, CloneNewNet) != 0)
                    {
                        throw new DataplaneUnavailableException($"cannot enter network namespace '{networkNamespace}': errno {Marshal.GetLastPInvokeError()}");
                    }
                }

                // This thread now lives in the namespace and ends here; the socket stays bound to it.
                opened = OpenSocket(AfNetlink, SockRaw | SockCloexec, NetlinkNetfilter);
                if (opened < 0)
                {
                    throw Failure("socket");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failure = new DataplaneUnavailableException($"cannot open network namespace '{networkNamespace}': {e.Message}");
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = "nft netlink opener" };
        opener.Start();
        opener.Join();
        return failure is null ? opened : throw failure;
    }

    private static NftException Failure(string call) => new($"netlink {call} failed: errno {Marshal.GetLastPInvokeError()}");

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNamespace(SafeFileHandle fd, int type);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int OpenSocket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint Send(int fd, [In] byte[] buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Receive(int fd, [Out] byte[] buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int fd, [In] byte[] address, int length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetOption(int fd, int level, int name, [In] byte[] value, int length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
