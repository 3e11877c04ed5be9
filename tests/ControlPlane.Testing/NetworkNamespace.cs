using System.Diagnostics;

namespace ControlPlane.Testing;

/// <summary>
/// A network namespace the test creates and removes, named <c>cpt-…</c>. It has only a
/// loopback interface: no route leaves it.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>
    /// A namespace made by someone else (<c>scripts/edge-lab</c>), by name. Its owner deletes
    /// it; disposing this handle deletes it too, so only the owner should.
    /// </summary>
    public static NetworkNamespace Attach(string name) => new(name);

    public static NetworkNamespace Create()
    {
        var ns = new NetworkNamespace("cpt-" + Guid.NewGuid().ToString("N")[..8]);
        Run("ip", "netns", "add", ns.Name);
        Run("ip", "-n", ns.Name, "link", "set", "lo", "up");
        return ns;
    }

    /// <summary>Runs a program and returns its standard output; throws with its stderr on failure.</summary>
    public static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0
            ? stdout
            : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {stderr}");
    }

    public void Dispose() => Run("ip", "netns", "delete", Name);
}
