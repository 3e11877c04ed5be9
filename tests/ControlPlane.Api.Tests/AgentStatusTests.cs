using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static ControlPlane.Testing.CustomerApiClient;

namespace ControlPlane.Api.Tests;

/// <summary>An agent's status report, through the real broker, into the fleet and rollout views.</summary>
[Collection("api")]
public sealed class AgentStatusTests(ApiFixture fixture)
{
    [Fact]
    public async Task LoopFailures_ReportedByAnAgent_ShowInTheFleetAndRolloutViews()
    {
        var code = "l" + Guid.NewGuid().ToString("N")[..5];
        using var op = fixture.Api.Operator();
        await ResultAsync(await op.PostAsJsonAsync("/operator/v1/data_centers", new { code, name = "Loop failures" }));
        var (account, token) = await fixture.Api.NewTenantAsync("Loop failures");
        using var client = fixture.Api.As(token);
        var zone = (await CreateZoneAsync(client, account, $"lf{Guid.NewGuid():N}"[..12] + ".example.com")).GetProperty("id").GetString()!;

        var bus = fixture.Factory.Services.GetRequiredService<IBus>();
        await bus.Publish(new AgentStatusReported(code, "test", true, null, DateTimeOffset.UtcNow)
        {
            LoopFailures = 3,
            LastLoopError = "drift repair: InvalidOperationException: an element type nobody expected",
        });

        JsonElement row = default;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var fleet = await ResultAsync(await op.GetAsync("/operator/v1/data_centers/status"));
            row = fleet.GetProperty("data_centers").EnumerateArray().Single(d => d.GetProperty("code").GetString() == code);
            if (row.GetProperty("state").GetString() != "never")
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal(3, row.GetProperty("loop_failures").GetInt64());
        Assert.Equal("drift repair: InvalidOperationException: an element type nobody expected", row.GetProperty("last_loop_error").GetString());
        var rollout = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone}/settings/disable_http_ports/rollout"));
        var dc = rollout.GetProperty("data_centers").EnumerateArray().Single(d => d.GetProperty("data_center").GetString() == code);
        Assert.Equal(3, dc.GetProperty("loop_failures").GetInt64());
    }
}
