using ControlPlane.Testing;
using EdgeAgent.Dataplane;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Tests;

/// <summary>The real nft backend, run as root against namespaces the test creates.</summary>
public sealed class NftBackendTests
{
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task ACancelledCall_KillsItsNftProcess()
    {
        // A stand-in for nft that records its pid and blocks, as a wedged nft would.
        var directory = Directory.CreateTempSubdirectory("cp-nft-stub-");
        try
        {
            var pidFile = Path.Combine(directory.FullName, "pid");
            var stub = Path.Combine(directory.FullName, "nft");
            await File.WriteAllTextAsync(stub, $"#!/bin/sh\necho $$ > {pidFile}\nexec sleep 300\n");
            File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var cancel = new CancellationTokenSource();
            var call = new NftCommand(null, stub).RunAsync(["list", "tables"], null, cancel.Token);
            var pid = await WaitForAsync(() => File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile), out var p) ? p : (int?)null);
            Assert.True(Directory.Exists($"/proc/{pid}"));

            await cancel.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
            Assert.True(await WaitForAsync(() => Directory.Exists($"/proc/{pid}") ? (bool?)null : true), $"nft stand-in {pid} still runs");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> probe)
        where T : struct
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } value)
            {
                return value;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("the condition did not hold within 10 s");
    }

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
