using System.ComponentModel;
using System.Diagnostics;

namespace EdgeAgent.Dataplane;

/// <summary>The outcome of one <c>nft</c> invocation.</summary>
public sealed record NftResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs the <c>nft</c> binary, inside the target network namespace when one is set
/// (through <c>ip netns exec</c>, so the agent itself can stay in the host namespace
/// and keep reaching the host's loopback services). <c>ip netns exec</c> execs nft in
/// place, so the process id seen here is the one the kernel names as a generation's writer.
/// </summary>
/// <param name="networkNamespace">The namespace to run in; null or empty for the agent's own.</param>
/// <param name="program">The nft binary (a stand-in in tests).</param>
/// <param name="started">Told the process id of every nft started, before it can write anything.</param>
public sealed class NftCommand(string? networkNamespace, string program = "nft", Action<int>? started = null)
{
    /// <summary>Runs nft with the given arguments, feeding <paramref name="standardInput"/> when given.</summary>
    /// <exception cref="DataplaneUnavailableException">nft or ip is not installed.</exception>
    /// <exception cref="OperationCanceledException">The call was cancelled; the nft process was killed first.</exception>
    public async Task<NftResult> RunAsync(IReadOnlyList<string> arguments, string? standardInput, CancellationToken cancellationToken)
    {
        using var process = Start(arguments, standardInput is not null);
        try
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
                process.StandardInput.Close();
            }

            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return new NftResult(process.ExitCode, await stdout, (await stderr).Trim());
        }
        catch (OperationCanceledException)
        {
            // A cancelled call must not leave nft running (holding the netlink socket, or
            // applying a batch nobody waits for): end it and everything it started.
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    private Process Start(IReadOnlyList<string> arguments, bool redirectInput)
    {
        var start = new ProcessStartInfo
        {
            FileName = string.IsNullOrEmpty(networkNamespace) ? program : "ip",
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (!string.IsNullOrEmpty(networkNamespace))
        {
            foreach (var part in new[] { "netns", "exec", networkNamespace, program })
            {
                start.ArgumentList.Add(part);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            var process = Process.Start(start) ?? throw new DataplaneUnavailableException($"could not start {start.FileName}");
            started?.Invoke(process.Id);
            return process;
        }
        catch (Win32Exception e)
        {
            throw new DataplaneUnavailableException($"'{start.FileName}' is not installed or not on PATH ({e.Message}); install the nftables and iproute2 packages");
        }
    }
}

/// <summary>The kernel cannot be programmed at all: a missing binary, say.</summary>
public sealed class DataplaneUnavailableException(string message) : Exception(message);
