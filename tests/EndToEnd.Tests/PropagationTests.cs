using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using ControlPlane.Api.Infrastructure;
using ControlPlane.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static ControlPlane.Testing.CustomerApiClient;

namespace EndToEnd.Tests;

[CollectionDefinition("propagation", DisableParallelization = true)]
public sealed class PropagationCollection;

/// <summary>
/// The change path from a PATCH to every data center's kernel, and its promises under
/// faults. Three DCs, each with its own edge and client namespaces and agent process.
/// </summary>
[Collection("propagation")]
public sealed class PropagationTests
{
    private static readonly string[] DataCenters = ["ams", "sjc", "sin"];

    [Fact]
    public async Task SettingOnThenOff_EveryDcApplies_Port80IsRefusedThenServed_HttpsAlwaysServed()
    {
        await using var lab = await PropagationLab.StartAsync(DataCenters);
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var zone = await PropagationLab.ZoneAsync(client, account);

        foreach (var (value, port80) in new[] { ("on", SocketError.ConnectionRefused), ("off", SocketError.Success) })
        {
            await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports", new { value }));
            var rollout = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports/rollout?wait=30"));
            Assert.Equal(3, rollout.GetProperty("summary").GetProperty("applied").GetInt32());
            Assert.Equal(0, rollout.GetProperty("summary").GetProperty("pending").GetInt32());
            Assert.All(rollout.GetProperty("data_centers").EnumerateArray(), d => Assert.Equal("applied", d.GetProperty("state").GetString()));

            foreach (var (dc, edge) in lab.Edges)
            {
                foreach (var address in new[] { zone.V4, zone.V6 })
                {
                    Assert.True(port80 == await edge.TcpExchangeAsync(address, 80), $"{dc} {address}:80 with the setting {value}");
                    Assert.True(SocketError.Success == await edge.TcpExchangeAsync(address, 443), $"{dc} {address}:443");
                }
            }
        }

        var setting = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports"));
        Assert.Equal(3, setting.GetProperty("rollout").GetProperty("applied").GetInt32());
    }

    [Fact]
    public async Task BrokerDown_ChangesAreAccepted_AndEveryDcConvergesExactlyWhenItReturns()
    {
        await using var lab = await PropagationLab.StartAsync(DataCenters);
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var zones = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            zones.Add((await PropagationLab.ZoneAsync(client, account)).Id);
        }

        await lab.WaitUntilConvergedAsync();

        lab.Rabbit.Cut();
        var random = new Random(42);
        for (var i = 0; i < 100; i++)
        {
            var response = await client.PatchAsJsonAsync($"/client/v4/zones/{zones[i % 20]}/settings/disable_http_ports", new { value = random.Next(2) == 0 ? "on" : "off" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var op = lab.Customers.Operator())
        {
            var fleet = await ResultAsync(await op.GetAsync("/operator/v1/data_centers/status"));
            Assert.True(fleet.GetProperty("dispatch_lag").GetInt64() > 0, "nothing can be published while the broker is away");
        }

        lab.Rabbit.Restore();
        await lab.WaitUntilConvergedAsync(90);
        await lab.AssertKernelsMatchDatabaseAsync();
    }

    [Fact]
    public async Task AgentKilled_WhileChangesFlow_ConvergesAfterRestart_AndAClosedZoneNeverOpens()
    {
        await using var lab = await PropagationLab.StartAsync(DataCenters);
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var guarded = await PropagationLab.ZoneAsync(client, account);
        var others = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            others.Add((await PropagationLab.ZoneAsync(client, account)).Id);
        }

        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{guarded.Id}/settings/disable_http_ports", new { value = "on" }));
        await lab.WaitUntilConvergedAsync();

        // A probe from ams's client namespace for the whole outage: port 80 must never answer.
        using var stopProbe = new CancellationTokenSource();
        var probe = Task.Run(async () =>
        {
            var attempts = 0;
            while (!stopProbe.IsCancellationRequested)
            {
                var result = await lab.Edges["ams"].TcpExchangeAsync(guarded.V4, 80);
                Assert.True(result == SocketError.ConnectionRefused, $"probe {attempts}: {result}");
                attempts++;
                await Task.Delay(20);
            }

            return attempts;
        });

        var changes = Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
            {
                await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{others[i % 5]}/settings/disable_http_ports", new { value = i % 2 == 0 ? "on" : "off" }));
                await Task.Delay(50);
            }
        });
        await Task.Delay(300);
        lab.Agents["ams"].KillHard();
        await Task.Delay(1000);
        lab.StartAgent("ams");
        await changes;
        await lab.WaitUntilConvergedAsync(60);
        await stopProbe.CancelAsync();

        Assert.True(await probe > 20, "the probe ran through the outage");
        await lab.AssertKernelsMatchDatabaseAsync();
    }

    [Fact]
    public async Task DispatcherReplays_AreHarmless_AndASecondReplicaTakesOverWhenTheFirstDies()
    {
        await using var lab = await PropagationLab.StartAsync(DataCenters);
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var zone = await PropagationLab.ZoneAsync(client, account);
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports", new { value = "on" }));
        await lab.WaitUntilConvergedAsync();

        // As if the dispatcher died after publishing and before marking: everything goes out again.
        await using (var db = lab.Database.CreateContext())
        {
            await db.ChangeLog.ExecuteUpdateAsync(u => u.SetProperty(c => c.PublishedOn, (DateTime?)null));
        }

        await lab.WaitUntilConvergedAsync();
        await lab.AssertKernelsMatchDatabaseAsync();
        Assert.Equal(SocketError.ConnectionRefused, await lab.Edges["sjc"].TcpExchangeAsync(zone.V4, 80));

        // Two replicas: exactly one dispatches; kill it and the other takes over.
        await using var second = lab.NewApi();
        await Task.Delay(1500);
        var first = lab.Api.Services.GetRequiredService<DispatchState>();
        var standby = second.Services.GetRequiredService<DispatchState>();
        Assert.True(first.Active ^ standby.Active, $"exactly one dispatcher: first={first.Active} second={standby.Active}");
        Assert.True(first.Active, "the first replica holds the lock");

        await lab.Api.DisposeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!standby.Active && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(standby.Active, "the second replica took over within 10 s");
        var (account2, token2) = await new CustomerApiClient(second).NewTenantAsync("After failover");
        using var client2 = new CustomerApiClient(second).As(token2);
        var zone2 = await CreateZoneAsync(client2, account2, $"f{Guid.NewGuid():N}"[..12] + ".example.com");
        await ResultAsync(await client2.PatchAsJsonAsync($"/client/v4/zones/{zone2.GetProperty("id").GetString()}/settings/disable_http_ports", new { value = "on" }));
        var rollout = await ResultAsync(await client2.GetAsync($"/client/v4/zones/{zone2.GetProperty("id").GetString()}/settings/disable_http_ports/rollout?wait=30"));
        Assert.Equal(3, rollout.GetProperty("summary").GetProperty("applied").GetInt32());
    }

    [Fact]
    public async Task LostMessages_TheGapIsDetected_AndASnapshotResyncsTheAgent()
    {
        await using var lab = await PropagationLab.StartAsync(DataCenters);
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var lost = await PropagationLab.ZoneAsync(client, account);
        var later = await PropagationLab.ZoneAsync(client, account);
        await lab.WaitUntilConvergedAsync();

        // sjc's queue stops receiving: the next change never reaches it.
        using var management = RabbitManagement();
        var vhost = Uri.EscapeDataString(lab.VirtualHost.Name);
        var bindings = await management.GetFromJsonAsync<List<Binding>>($"api/exchanges/{vhost}/edge-sjc/bindings/destination");
        var binding = Assert.Single(bindings!, b => b.Source.Contains("EdgeChangeRecorded", StringComparison.Ordinal));
        (await management.DeleteAsync($"api/bindings/{vhost}/e/{Uri.EscapeDataString(binding.Source)}/e/edge-sjc/{Uri.EscapeDataString(binding.PropertiesKey)}")).EnsureSuccessStatusCode();
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{lost.Id}/settings/disable_http_ports", new { value = "on" }));
        await Task.Delay(1500);
        (await management.PostAsJsonAsync($"api/bindings/{vhost}/e/{Uri.EscapeDataString(binding.Source)}/e/edge-sjc", new { routing_key = binding.RoutingKey })).EnsureSuccessStatusCode();

        // The next change arrives with a hole before it: sjc waits out the gap, then resyncs.
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{later.Id}/settings/disable_http_ports", new { value = "on" }));
        await lab.WaitUntilConvergedAsync(30);
        await lab.AssertKernelsMatchDatabaseAsync();
        Assert.Equal(SocketError.ConnectionRefused, await lab.Edges["sjc"].TcpExchangeAsync(lost.V4, 80));
        Assert.Contains("is missing", lab.Agents["sjc"].Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostgresDown_TheApiAnswers503Fast_AndRecoversByItself()
    {
        await using var lab = await PropagationLab.StartAsync("ams");
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var zone = await PropagationLab.ZoneAsync(client, account);

        lab.Postgres.Cut();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var during = await client.GetAsync($"/client/v4/zones/{zone.Id}");
        var elapsed = watch.Elapsed;
        using var anonymous = lab.Api.CreateHttpsClient();
        var ready = await anonymous.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
        Assert.Contains("\"success\":false", await during.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"answered after {elapsed}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("postgres", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        lab.Postgres.Restore();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        HttpResponseMessage after;
        do
        {
            await Task.Delay(250);
            after = await client.GetAsync($"/client/v4/zones/{zone.Id}");
        }
        while (after.StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zone.Id}/settings/disable_http_ports", new { value = "on" }));
        await lab.WaitUntilConvergedAsync();
    }

    private sealed record Binding(
        [property: System.Text.Json.Serialization.JsonPropertyName("source")] string Source,
        [property: System.Text.Json.Serialization.JsonPropertyName("routing_key")] string RoutingKey,
        [property: System.Text.Json.Serialization.JsonPropertyName("properties_key")] string PropertiesKey);

    private static HttpClient RabbitManagement()
    {
        var amqp = TestEnvironment.RabbitMqAmqp;
        var client = new HttpClient { BaseAddress = TestEnvironment.RabbitMqManagement };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Uri.UnescapeDataString(amqp.UserInfo))));
        return client;
    }
}
