using System.Diagnostics;
using ControlPlane.Testing;

namespace EndToEnd.Tests;

/// <summary>
/// <c>scripts/down</c>, run as it is against edges that the same <c>scripts/edge-lab</c> code
/// built in a folder and with namespace names of the test's own: it must end every
/// process in the project's namespaces (the proxies by pidfile, strays too) and leave no
/// namespace behind.
/// </summary>
public sealed class ScriptsDownTests
{
    [Fact]
    public async Task Down_EndsEveryProcessInTheEdgeAndClientNamespaces_AndRemovesThem()
    {
        var labDirectory = Directory.CreateTempSubdirectory("cp-down-").FullName;
        var prefix = "cpt-" + Guid.NewGuid().ToString("N")[..8] + "-";
        using var certificates = new TestCertificates();
        using var ams = EdgeLab.Create("ams", certificates, prefix, labDirectory);
        using var sjc = EdgeLab.Create("sjc", certificates, prefix, labDirectory);
        // A stray process in a client namespace: deleting the namespace alone would not end it.
        using var stray = Process.Start("ip", ["netns", "exec", sjc.Client.Name, "sleep", "600"]);
        var namespaces = new[] { ams.Edge.Name, ams.Client.Name, sjc.Edge.Name, sjc.Client.Name };
        await WaitUntilAsync(() => Pids(sjc.Client.Name).Contains(stray.Id));
        var pids = namespaces.SelectMany(Pids).ToList();
        Assert.Contains(int.Parse(File.ReadAllText(Path.Combine(ams.StateDirectory, "caddy.pid")), System.Globalization.CultureInfo.InvariantCulture), pids);
        Assert.Contains(stray.Id, pids);

        var down = await RepositoryScript.RunAsync("down", new Dictionary<string, string>
        {
            ["CP_DEV_DIR"] = labDirectory,
            ["CP_DATA_CENTERS"] = "ams sjc",
            ["CP_NAMESPACE_PREFIX"] = prefix,
        }, TimeSpan.FromMinutes(1));

        Assert.True(down.ExitCode == 0, down.ToString());
        Assert.All(pids, pid => Assert.False(IsAlive(pid), $"pid {pid} is still running after scripts/down:\n{down}"));
        var left = NetworkNamespace.Run("ip", "netns", "list").Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Assert.True(left.Count == 0, $"namespaces left after scripts/down: {string.Join(", ", left)}");
        Assert.False(File.Exists(Path.Combine(ams.StateDirectory, "caddy.pid")));
        Directory.Delete(labDirectory, recursive: true);
    }

    private static List<int> Pids(string ns) =>
        NetworkNamespace.Run("ip", "netns", "pids", ns).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToList();

    /// <summary>Alive means not exited: a zombie waiting for its parent to reap it has ended.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }
}
