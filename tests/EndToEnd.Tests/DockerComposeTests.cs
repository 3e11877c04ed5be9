using System.Diagnostics;
using ControlPlane.Testing;

namespace EndToEnd.Tests;

/// <summary>
/// There is no Docker engine on the build machines, so the compose file is checked the
/// way it can be: docker-compose parses and validates it, and the expected services are there.
/// </summary>
public sealed class DockerComposeTests
{
    [Fact]
    public void ComposeFile_Validates_AndDescribesTheWholeStack()
    {
        var services = DockerCompose("config", "--services")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Order()
            .ToArray();

        Assert.Equal(["agent-ams", "agent-sin", "agent-sjc", "api", "migrate", "postgres", "rabbitmq"], services);
    }

    [Fact]
    public void ComposeFile_UsesTheSameConfigurationKeysAsTheLocalStack()
    {
        var config = DockerCompose("config");

        foreach (var key in new[] { "ConnectionStrings__ControlPlane", "ConnectionStrings__RabbitMq", "Https__CertificatePath", "Https__KeyPath", "Operator__TokenSha256", "Agent__DataCenter", "Agent__ControlPlaneUrl", "Agent__Credential", "NET_ADMIN" })
        {
            Assert.Contains(key, config, StringComparison.Ordinal);
        }
    }

    private static string DockerCompose(params string[] arguments)
    {
        var start = new ProcessStartInfo("docker-compose")
        {
            WorkingDirectory = TestEnvironment.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add("docker-compose.yml");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The file requires these from the user; any value proves the file is well formed.
        start.Environment["CP_OPERATOR_TOKEN_SHA256"] = new string('0', 64);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"docker-compose {string.Join(' ', arguments)} failed: {stderr}");
        return stdout;
    }
}
