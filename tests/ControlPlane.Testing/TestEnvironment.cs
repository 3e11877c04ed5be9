namespace ControlPlane.Testing;

/// <summary>
/// Where the test services run. scripts/test starts a Postgres and a RabbitMQ of
/// their own (apart from the dev stack) and exports these variables.
/// </summary>
public static class TestEnvironment
{
    public static string PostgresAdmin => Require("CP_TEST_POSTGRES");

    public static Uri RabbitMqAmqp => new(Require("CP_TEST_RABBITMQ"));

    public static Uri RabbitMqManagement => new(Require("CP_TEST_RABBITMQ_MANAGEMENT"));

    /// <summary>The repository root, found from the test binaries' location.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ControlPlane.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("ControlPlane.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The build output folder of a deployable, in the configuration the tests were built in.</summary>
    public static string BuildOutput(string projectDirectory)
    {
        // Tests run from tests/<project>/bin/<Configuration>/<tfm>/.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        return Path.Combine(RepositoryRoot, projectDirectory, "bin", testOutput.Parent!.Name, testOutput.Name);
    }

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with scripts/test, which starts the test services and sets it.");
}
