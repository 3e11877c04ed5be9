using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using ControlPlane.Contracts;
using ControlPlane.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using static ControlPlane.Testing.CustomerApiClient;

namespace EndToEnd.Tests;

/// <summary>Traffic reports through a broker connection that fails between publish and confirm.</summary>
[Collection("propagation")]
public sealed class TrafficReportTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The real agent counts real SYNs and publishes through its own proxy to RabbitMQ. The proxy
    /// holds every byte from the broker to the agent; the SYNs are sent; the test waits until the
    /// broker has routed the report (a tap queue bound to the same exchange got it), the API has
    /// counted it, and the agent has logged that the publish failed: the broker's confirm, held in
    /// the proxy, did not come within the interval. The proxy is then cut, so that confirm is lost
    /// for good, and restored. The agent resends that interval: every copy the broker routed has the
    /// same report id, DC, interval and counts. One more SYN is then reported under a new id (so the
    /// resent report was confirmed and newer counts got their own interval). The API logged each
    /// copy after the first as counted before, keeps one row for the report id, and shows each SYN once.
    /// The resend is the reporter's own, not a MassTransit-level retry: the failed publish had
    /// returned to the reporter (the log line) before the cut, and MassTransit does not retry a
    /// publish whose cancellation token fired.
    /// </summary>
    [Fact]
    public async Task ConfirmLost_AfterTheBrokerRoutedTheReport_TheAgentResendsItUnchanged_AndTheApiCountsItOnce()
    {
        await using var lab = await PropagationLab.StartAsync("ams");
        var (account, client) = await lab.TenantAsync();
        using var _ = client;
        var zone = await PropagationLab.ZoneAsync(client, account);
        await lab.WaitUntilConvergedAsync();
        await using var tap = await ReportTap.StartAsync(lab.VirtualHost);
        var agent = lab.Agents["ams"];

        // One SYN first: the agent then has its channel and the report exchange declared, so the
        // next publish is frames that need no answer from the broker before they leave.
        Assert.Equal(SocketError.Success, await lab.Edges["ams"].TcpExchangeAsync(zone.V4, 80));
        await tap.NextAsync(r => r.Zones.Any(z => z.ZoneId == zone.Id));
        await WaitForAttemptsAsync(client, zone.Id, 1);

        const string GaveUp = "Could not report plaintext traffic";
        var gaveUpBefore = Occurrences(agent.Output, GaveUp);
        var broker = lab.AgentRabbits["ams"];
        broker.HoldReplies();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(SocketError.Success, await lab.Edges["ams"].TcpExchangeAsync(zone.V4, 80));
        }

        var first = await tap.NextAsync(r => r.Zones.Any(z => z.ZoneId == zone.Id));
        Assert.Equal(3, Assert.Single(first.Zones).AttemptedV4);
        await WaitForAttemptsAsync(client, zone.Id, 4);
        await WaitForAsync(() => Occurrences(agent.Output, GaveUp) > gaveUpBefore, "the agent never gave the unconfirmed publish up");
        broker.Cut();
        broker.Restore();

        Assert.Equal(SocketError.Success, await lab.Edges["ams"].TcpExchangeAsync(zone.V4, 80));
        var copies = new List<PlaintextTrafficCounted> { first };
        PlaintextTrafficCounted next;
        while ((next = await tap.NextAsync(r => r.Zones.Any(z => z.ZoneId == zone.Id))).ReportId == first.ReportId)
        {
            copies.Add(next);
        }

        Assert.True(copies.Count >= 2, "the interval was never resent under its report id");
        Assert.All(copies, c => Assert.Equal(JsonSerializer.Serialize(first), JsonSerializer.Serialize(c)));
        Assert.Equal(1, Assert.Single(next.Zones).AttemptedV4);
        Assert.True(next.IntervalStart >= first.IntervalEnd, $"the new interval {next.IntervalStart:O} overlaps the resent one");

        var dropped = $"Traffic report {first.ReportId} from ams was counted before";
        await WaitForAsync(() => lab.Api.Logs.Lines.Sum(l => Occurrences(l, dropped)) == copies.Count - 1,
            $"the API did not drop the {copies.Count - 1} copies");
        await WaitForAttemptsAsync(client, zone.Id, 5);
        await using var db = lab.Database.CreateContext();
        Assert.Equal(1, await db.TrafficReports.CountAsync(r => r.ReportId == first.ReportId));
    }

    private static int Occurrences(string text, string part) => text.Split(part).Length - 1;

    private static async Task<long> AttemptsAsync(HttpClient client, string zoneId)
    {
        var analytics = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zoneId}/analytics/plaintext_http?granularity=minute"));
        return analytics.GetProperty("totals").GetProperty("attempted").GetInt64();
    }

    /// <summary>Waits for exactly this many; a count past it fails at once (it never comes back down).</summary>
    private static async Task WaitForAttemptsAsync(HttpClient client, string zoneId, long expected)
    {
        long last = 0;
        await WaitForAsync(async () => (last = await AttemptsAsync(client, zoneId)) >= expected, $"the API never showed {expected} attempts (last: {last})");
        Assert.Equal(expected, last);
    }

    private static Task WaitForAsync(Func<bool> done, string failure) => WaitForAsync(() => Task.FromResult(done()), failure);

    private static async Task WaitForAsync(Func<Task<bool>> done, string failure)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(failure);
            }

            await Task.Delay(100);
        }
    }

    /// <summary>A queue of the test's own, bound to the report exchange: every report the broker routed, in order.</summary>
    private sealed class ReportTap : IAsyncDisposable
    {
        private readonly Channel<PlaintextTrafficCounted> seen = Channel.CreateUnbounded<PlaintextTrafficCounted>();
        private IBusControl bus = null!;

        public static async Task<ReportTap> StartAsync(TestVirtualHost vhost)
        {
            var tap = new ReportTap();
            var amqp = TestEnvironment.RabbitMqAmqp;
            var user = amqp.UserInfo.Split(':', 2).Select(Uri.UnescapeDataString).ToArray();
            tap.bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
            {
                cfg.Host(amqp.Host, (ushort)amqp.Port, vhost.Name, h =>
                {
                    h.Username(user[0]);
                    h.Password(user[1]);
                });
                cfg.ReceiveEndpoint("traffic-report-tap", e =>
                {
                    e.PrefetchCount = 1;
                    e.Handler<PlaintextTrafficCounted>(async context => await tap.seen.Writer.WriteAsync(context.Message));
                });
            });
            using var starting = new CancellationTokenSource(Patience);
            await tap.bus.StartAsync(starting.Token);
            return tap;
        }

        /// <summary>The next report routed that matches, skipping others.</summary>
        public async Task<PlaintextTrafficCounted> NextAsync(Func<PlaintextTrafficCounted, bool> match)
        {
            using var timeout = new CancellationTokenSource(Patience);
            while (true)
            {
                var next = await seen.Reader.ReadAsync(timeout.Token);
                if (match(next))
                {
                    return next;
                }
            }
        }

        public async ValueTask DisposeAsync() => await bus.StopAsync();
    }
}
