using System.Diagnostics;

namespace ControlPlane.Testing;

/// <summary>Runs one of the project's own scripts (<c>scripts/…</c>) as a user would, and keeps what it printed.</summary>
public static class RepositoryScript
{
    /// <summary>What a script printed and how it ended.</summary>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout:\n{StandardOutput}\n--- stderr:\n{StandardError}";
    }

    /// <summary>
    /// Runs <c>scripts/<paramref name="name"/></c> from the repository root with extra
    /// environment variables, waiting at most <paramref name="timeout"/>; throws
    /// <see cref="TimeoutException"/> (after killing it) when it runs longer.
    /// </summary>
    public static Task<Result> RunAsync(string name, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, params string[] arguments) =>
        RunProgramAsync(Path.Combine(TestEnvironment.RepositoryRoot, "scripts", name), environment, timeout, arguments);

    /// <summary>
    /// Runs <paramref name="program"/> (a path, or a name on PATH such as <c>node</c>) from the
    /// repository root, as <see cref="RunAsync"/> does for scripts.
    /// </summary>
    public static async Task<Result> RunProgramAsync(string program, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, params string[] arguments)
    {
        var name = Path.GetFileName(program);
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = TestEnvironment.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} {string.Join(' ', arguments)} ran longer than {timeout}:\n{await stdout}\n{await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>As <see cref="RunAsync"/>, for scripts that must succeed: throws with their output when they do not.</summary>
    public static Result Run(string name, params string[] arguments)
    {
        var result = RunAsync(name, null, TimeSpan.FromMinutes(2), arguments).GetAwaiter().GetResult();
        return result.ExitCode == 0 ? result : throw new InvalidOperationException($"scripts/{name} {string.Join(' ', arguments)} failed: {result}");
    }
}
