using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ControlPlane.Testing;
using static ControlPlane.Testing.CustomerApiClient;

namespace EndToEnd.Tests;

/// <summary>
/// What a newcomer runs after <c>scripts/up</c>: <c>scripts/try</c> and <c>scripts/traffic</c>,
/// run here as they are, against a lab of three DCs built by the same <c>scripts/edge-lab</c>
/// code (real Caddy, real agents, real nft).
/// </summary>
[Collection("propagation")]
public sealed partial class SeeItWorkTests
{
    private static readonly string[] DataCenters = ["ams", "sjc", "sin"];

    [Fact]
    public async Task Try_ShowsHttpRefusedAndHttpsServed_ForAClosedZone_AndBothServed_ForAnOpenZone_InEveryDc_OnV4AndV6()
    {
        await using var lab = await PropagationLab.StartAsync(DataCenters);
        var (account, token) = await lab.Customers.NewTenantAsync("Try");
        using var client = lab.Customers.As(token);
        var closed = await NewZoneAsync(client, account, "closed");
        var open = await NewZoneAsync(client, account, "open");
        await SetAndRollOutAsync(client, closed.Id, "on");
        await lab.WaitUntilConvergedAsync();

        var closedLines = await TryAsync(lab, token, closed.Name);
        Assert.All(closedLines, line =>
        {
            Assert.Equal("refused (RST)", line.Http);
            Assert.Equal($"200 \"{line.DataCenter} served {closed.Name} over TLS\"", line.Https);
        });

        var openLines = await TryAsync(lab, token, open.Name);
        Assert.All(openLines, line =>
        {
            Assert.Equal($"308 -> https://{open.Name}/", line.Http);
            Assert.Equal($"200 \"{line.DataCenter} served {open.Name} over TLS\"", line.Https);
        });
    }

    [Fact]
    public async Task Traffic_PrintsExactlyThePlaintextCounts_TheAnalyticsThenReport_PerZoneAndDc()
    {
        await using var lab = await PropagationLab.StartAsync(DataCenters);
        var (account, token) = await lab.Customers.NewTenantAsync("Traffic");
        using var client = lab.Customers.As(token);
        var busy = await NewZoneAsync(client, account, "busy");
        var closed = await NewZoneAsync(client, account, "shut");
        await SetAndRollOutAsync(client, closed.Id, "on");
        await lab.WaitUntilConvergedAsync();

        var run = await RepositoryScript.RunAsync("traffic", ScriptEnvironment(lab, token), TimeSpan.FromSeconds(60), "--seconds", "4", "--rate", "40");
        Assert.True(run.ExitCode == 0, run.ToString());
        var printed = TrafficRow().Matches(run.StandardOutput)
            .Select(m => (Zone: m.Groups[1].Value, Dc: m.Groups[2].Value, Plaintext: Int(m, 3), Refused: Int(m, 4), Https: Int(m, 5)))
            .ToList();
        Assert.True(printed.Sum(r => r.Plaintext + r.Https) == 160, run.ToString());
        Assert.True(printed.Where(r => r.Zone == closed.Name).Sum(r => r.Plaintext) > 0, run.ToString());
        Assert.All(printed, r => Assert.Equal(r.Zone == closed.Name ? r.Plaintext : 0, r.Refused));

        foreach (var zone in new[] { busy, closed })
        {
            var expected = DataCenters.ToDictionary(dc => dc, dc => printed.Where(r => r.Zone == zone.Name && r.Dc == dc).Sum(r => r.Plaintext));
            var analytics = await WaitForAttemptsAsync(client, zone.Id, expected);
            foreach (var dc in DataCenters)
            {
                Assert.Equal(expected[dc], Count(analytics, dc, "attempted"));
                Assert.Equal(zone == closed ? expected[dc] : 0, Count(analytics, dc, "blocked"));
            }
        }
    }

    private static int Int(Match match, int group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    private static Dictionary<string, string> ScriptEnvironment(PropagationLab lab, string token) => new()
    {
        ["CLOUDFLARE_API_TOKEN"] = token,
        ["CLOUDFLARE_API_BASE_URL"] = new Uri(lab.Api.BaseAddress, "client/v4").ToString(),
        ["CP_CA_CERT"] = lab.Certificates.AuthorityPath,
        ["CP_EDGES"] = lab.ClientNamespaces,
    };

    /// <summary>Runs <c>scripts/try</c> and parses its lines; asserts one line per DC and family.</summary>
    private static async Task<List<TryLine>> TryAsync(PropagationLab lab, string token, string zoneName)
    {
        var run = await RepositoryScript.RunAsync("try", ScriptEnvironment(lab, token), TimeSpan.FromSeconds(90), zoneName);
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = TryLinePattern().Matches(run.StandardOutput)
            .Select(m => new TryLine(m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value.TrimEnd(), m.Groups[4].Value.TrimEnd()))
            .ToList();
        var expected = DataCenters.SelectMany(dc => new[] { $"{dc} v4", $"{dc} v6" }).Order();
        Assert.True(expected.SequenceEqual(lines.Select(l => $"{l.DataCenter} {l.Family}").Order()), run.ToString());
        return lines;
    }

    private static async Task<(string Id, string Name)> NewZoneAsync(HttpClient client, string account, string label)
    {
        var name = $"{label}-{Guid.NewGuid():N}"[..(label.Length + 9)] + ".example.com";
        var zone = await CreateZoneAsync(client, account, name);
        return (zone.GetProperty("id").GetString()!, name);
    }

    private static async Task SetAndRollOutAsync(HttpClient client, string zoneId, string value)
    {
        await ResultAsync(await client.PatchAsJsonAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports", new { value }));
        var rollout = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports/rollout?wait=30"));
        Assert.Equal(DataCenters.Length, rollout.GetProperty("summary").GetProperty("applied").GetInt32());
    }

    private static long Count(JsonElement analytics, string dc, string field) =>
        analytics.GetProperty("data_centers").EnumerateArray().Where(d => d.GetProperty("data_center").GetString() == dc).Sum(d => d.GetProperty(field).GetInt64());

    /// <summary>Polls the analytics until every DC shows the expected attempts; fails at once when one shows more.</summary>
    private static async Task<JsonElement> WaitForAttemptsAsync(HttpClient client, string zoneId, Dictionary<string, int> expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await ResultAsync(await client.GetAsync($"/client/v4/zones/{zoneId}/analytics/plaintext_http?granularity=minute"));
            Assert.All(expected, e => Assert.True(Count(last, e.Key, "attempted") <= e.Value, $"{e.Key}: more attempts counted than scripts/traffic made: {last.GetRawText()}"));
            if (expected.All(e => Count(last, e.Key, "attempted") == e.Value))
            {
                return last;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"the analytics never showed the attempts scripts/traffic printed ({string.Join(", ", expected)}): {last.GetRawText()}");
    }

    // "ams v4  http: refused (RST)     https: 200 "ams served x over TLS""
    [GeneratedRegex(@"^(\w+) (v4|v6)  http: (.+?)  https: (.+)$", RegexOptions.Multiline)]
    private static partial Regex TryLinePattern();

    // "busy-1a2b3c4d.example.com   ams   12   0   48"
    [GeneratedRegex(@"^(\S+\.example\.com)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex TrafficRow();

    private sealed record TryLine(string DataCenter, string Family, string Http, string Https);
}
