using ControlPlane.Testing;
using EdgeAgent.Dataplane;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Tests;

/// <summary>The real nft backend, run as root against namespaces the test creates.</summary>
public sealed class NftBackendTests
{
    [Fact]
    public async Task Check_InANamespaceTheTestCreated_IsReady()
    {
        using var ns = NetworkNamespace.Create();
        var dataplane = new NftBackend(Options.Create(new AgentOptions { DataCenter = "tst", Namespace = ns.Name }));

        var health = await dataplane.CheckAsync(CancellationToken.None);

        Assert.True(health.Ready, health.Reason);
        Assert.Null(health.Reason);
    }

    [Fact]
    public async Task Check_ForAMissingNamespace_IsNotReady_AndSaysWhy()
    {
        var missing = "cpt-missing-" + Guid.NewGuid().ToString("N")[..6];
        var dataplane = new NftBackend(Options.Create(new AgentOptions { DataCenter = "tst", Namespace = missing }));

        var health = await dataplane.CheckAsync(CancellationToken.None);

        Assert.False(health.Ready);
        Assert.Contains(missing, health.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NftCommand_RunsInsideTheTargetNamespaceOnly()
    {
        using var ns = NetworkNamespace.Create();
        var table = "cpt_probe_" + Guid.NewGuid().ToString("N")[..6];
        var nft = new NftCommand(ns.Name);

        var added = await nft.RunAsync(["add", "table", "inet", table], null, CancellationToken.None);
        var inside = await nft.RunAsync(["list", "tables"], null, CancellationToken.None);
        var onHost = NetworkNamespace.Run("nft", "list", "tables");

        Assert.True(added.Succeeded, added.StandardError);
        Assert.Contains(table, inside.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(table, onHost, StringComparison.Ordinal);
    }
}
