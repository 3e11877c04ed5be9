using System.Diagnostics.Metrics;
using EdgeAgent.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeAgent.Tests;

/// <summary>Agent metrics for tests that build the agent's parts by hand: each call gets its own meter factory.</summary>
internal static class TestMetrics
{
    public static AgentMetrics Agent() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
}
