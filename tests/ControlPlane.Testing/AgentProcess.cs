using System.Diagnostics;
using System.Text;

namespace ControlPlane.Testing;

/// <summary>The real EdgeAgent, as a process; its output is kept for failure messages, and it is killed on dispose.</summary>
public sealed class AgentProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private AgentProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public bool HasExited => process.HasExited;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Starts the built agent with the given settings as environment variables (<c>Agent__DataCenter</c>, …).</summary>
    public static AgentProcess Start(IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = TestEnvironment.BuildOutput("src/EdgeAgent"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("EdgeAgent.dll");
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new AgentProcess(Process.Start(start)!);
    }

    /// <summary>SIGKILL: no shutdown code runs, as when the machine loses the process.</summary>
    public void KillHard()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    public void Dispose()
    {
        KillHard();
        process.Dispose();
    }

    private void Append(string? line)
    {
        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
