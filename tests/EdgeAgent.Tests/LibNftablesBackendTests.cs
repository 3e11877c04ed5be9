using System.Text.Json;
using ControlPlane.Testing;
using EdgeAgent.Dataplane;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Tests;

/// <summary>
/// The in-process backend (libnftables on its own thread inside the namespace), run as root
/// against namespaces the test creates; what it does is read back with the nft binary.
/// </summary>
public sealed class LibNftablesBackendTests
{
    private const string Table = "cpt_lib";
    private static readonly AddressSet S = new("s", SetRole.Closed, IsV6: false, Interval: false);

    private static LibNftablesBackend NewBackend(string? networkNamespace) =>
        new(Options.Create(new AgentOptions { DataCenter = "tst", Namespace = networkNamespace }));

    private static string Setup(string elements = "") =>
        $"add table inet {Table}\nadd set inet {Table} s {{ type ipv4_addr; }}\n"
        + (elements.Length > 0 ? $"add element inet {Table} s {{ {elements} }}\n" : "");

    /// <summary>What the nft binary sees in the namespace, independently of the backend under test.</summary>
    private static string ListWithNft(NetworkNamespace ns) =>
        NetworkNamespace.Run("ip", "netns", "exec", ns.Name, "nft", "list", "table", "inet", Table);

    [Fact]
    public async Task Apply_LandsInTheNamespace_AndNotInTheHostNamespace()
    {
        using var ns = NetworkNamespace.Create();
        using var backend = NewBackend(ns.Name);

        await backend.ApplyAsync(Setup("198.51.100.7"), CancellationToken.None);

        Assert.Contains("198.51.100.7", ListWithNft(ns), StringComparison.Ordinal);
        Assert.DoesNotContain(Table, NetworkNamespace.Run("nft", "list", "tables"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_SeeTheNamespacesTable_EmptyOrMissingAlike()
    {
        using var ns = NetworkNamespace.Create();
        using var backend = NewBackend(ns.Name);

        Assert.Empty(await backend.ReadSetAsync(Table, S, CancellationToken.None));
        Assert.DoesNotContain(Table, (await backend.ListStructureAsync(CancellationToken.None)).SetsJson, StringComparison.Ordinal);

        await backend.ApplyAsync(Setup("198.51.100.8"), CancellationToken.None);

        Assert.Empty(await backend.ReadSetAsync(Table, S with { Name = "absent" }, CancellationToken.None));
        Assert.Equal([new KernelElement("198.51.100.8", null)], await backend.ReadSetAsync(Table, S, CancellationToken.None));
        var structure = await backend.ListStructureAsync(CancellationToken.None);
        using var json = JsonDocument.Parse(structure.SetsJson);
        var listed = json.RootElement.GetProperty("nftables").EnumerateArray()
            .Where(item => item.TryGetProperty("set", out var set) && set.GetProperty("table").GetString() == Table)
            .Select(item => item.GetProperty("set"))
            .Single();
        Assert.Equal("s", listed.GetProperty("name").GetString());
        Assert.Equal("ipv4_addr", listed.GetProperty("type").GetString());
    }

    [Fact]
    public async Task ConcurrentCalls_FromManyTasks_AllRun_InTheNamespace()
    {
        using var ns = NetworkNamespace.Create();
        using var backend = NewBackend(ns.Name);
        await backend.ApplyAsync(Setup(), CancellationToken.None);
        var hosts = Enumerable.Range(1, 64).ToList();

        // Each call adds its own element to a table that exists only in the namespace, so a call
        // run on any thread but the one inside it would fail; the listings interleave with them.
        // Whatever thread a caller resumes on is in the agent's own namespace: the one thread
        // never lets a thread be born inside.
        var resumedIn = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(hosts.Select(host => Task.Run(async () =>
        {
            await backend.ApplyAsync($"add element inet {Table} s {{ 198.51.100.{host} }}\n", CancellationToken.None);
            resumedIn.Add(ThreadNamespace());
            Assert.NotEmpty(await backend.ReadSetAsync(Table, S, CancellationToken.None));
            resumedIn.Add(ThreadNamespace());
        })));

        var elements = (await backend.ReadSetAsync(Table, S, CancellationToken.None)).Select(e => e.Text).ToHashSet();
        Assert.Equal(hosts.Select(host => $"198.51.100.{host}").ToHashSet(), elements);
        Assert.Equal(new FileInfo("/proc/self/ns/net").LinkTarget, Assert.Single(resumedIn.Distinct()));
    }

    /// <summary>The network namespace of the calling thread, as <c>net:[inode]</c>.</summary>
    private static string ThreadNamespace() => new FileInfo("/proc/thread-self/ns/net").LinkTarget!;

    [Fact]
    public async Task Check_InANamespaceTheTestCreated_IsReady()
    {
        using var ns = NetworkNamespace.Create();
        using var backend = NewBackend(ns.Name);

        var health = await backend.CheckAsync(CancellationToken.None);

        Assert.True(health.Ready, health.Reason);
        Assert.Null(health.Reason);
    }

    [Fact]
    public async Task Check_ForAMissingNamespace_IsNotReady_AndSaysWhy()
    {
        var missing = "cpt-missing-" + Guid.NewGuid().ToString("N")[..6];
        using var backend = NewBackend(missing);

        var health = await backend.CheckAsync(CancellationToken.None);

        Assert.False(health.Ready);
        Assert.Contains(missing, health.Reason, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DataplaneUnavailableException>(() => backend.ApplyAsync(Setup(), CancellationToken.None));
    }

    [Fact]
    public async Task ANamespaceDeletedAndAddedAgain_IsFollowed_NotProgrammedUnseen()
    {
        using var ns = NetworkNamespace.Create();
        using var backend = NewBackend(ns.Name);
        await backend.ApplyAsync(Setup("198.51.100.4"), CancellationToken.None);

        NetworkNamespace.Run("ip", "netns", "delete", ns.Name);
        Assert.False((await backend.CheckAsync(CancellationToken.None)).Ready);
        await Assert.ThrowsAsync<DataplaneUnavailableException>(() => backend.ApplyAsync(Setup(), CancellationToken.None));

        NetworkNamespace.Run("ip", "netns", "add", ns.Name);
        Assert.Empty(await backend.ReadSetAsync(Table, S, CancellationToken.None));
        await backend.ApplyAsync(Setup("198.51.100.5"), CancellationToken.None);
        Assert.Equal([new KernelElement("198.51.100.5", null)], await backend.ReadSetAsync(Table, S, CancellationToken.None));
        Assert.Contains("198.51.100.5", ListWithNft(ns), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterDispose_CallsAreRefused()
    {
        using var ns = NetworkNamespace.Create();
        var backend = NewBackend(ns.Name);
        await backend.ApplyAsync(Setup(), CancellationToken.None);

        backend.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => backend.ApplyAsync(Setup(), CancellationToken.None));
    }
}
