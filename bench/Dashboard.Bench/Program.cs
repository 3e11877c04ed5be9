using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using ControlPlane.Api.Infrastructure;
using ControlPlane.Testing;
using Npgsql;
using static ControlPlane.Testing.CustomerApiClient;

// Usage: Dashboard.Bench [--samples N] [--out file]
// The dashboard's server time (its Server-Timing header) against the same data fetched through
// the REST API, in the same run, on the test Postgres and RabbitMQ. Nothing here is asserted.
var samples = int.Parse(Option("--samples") ?? "30", CultureInfo.InvariantCulture);
var output = Option("--out") ?? Path.Combine(TestEnvironment.RepositoryRoot, "docs", "benchmarks-dashboard.md");
string[] dataCenters = ["ams", "sjc", "sin"];
const int ZonePageAccountZones = 10_000;
const int ListAccountZones = 100_000;
const int TrafficFillerZones = 100;

using var certificates = new TestCertificates();
await using var database = await TestDatabase.CreateMigratedAsync();
await using var virtualHost = await TestVirtualHost.CreateAsync();
await using var api = new ApiFactory(certificates, database.ConnectionString, virtualHost.AmqpUri, new Dictionary<string, string?>
{
    ["RateLimit:Capacity"] = "1000000000",
    ["RateLimit:RefillPerSecond"] = "1000000",
    ["Logging:LogLevel:Default"] = "Warning",
});
api.StartServer();
var customers = new CustomerApiClient(api);
await customers.EnsurePoolsAsync();
using (var op = customers.Operator())
{
    foreach (var dc in dataCenters)
    {
        (await op.PostAsJsonAsync("/operator/v1/data_centers", new { code = dc, name = dc })).EnsureSuccessStatusCode();
    }
}

// The zone page's account: one zone made through the API (addresses, change log, audit), and
// 9,999 more written straight into the table; a day of minute buckets and 30 days of hour
// buckets for that zone from 3 DCs, and a day of minute buckets for 100 other zones around it.
var (pageAccount, pageToken) = await customers.NewTenantAsync("Bench zone page");
using var pageRest = customers.As(pageToken);
var zoneId = (await CreateZoneAsync(pageRest, pageAccount, "bench-page.example.com")).GetProperty("id").GetString()!;
var (listAccount, listToken) = await customers.NewTenantAsync("Bench zones list");
using var listRest = customers.As(listToken);
var seeding = Stopwatch.StartNew();
await using (var sql = await OpenAdminAsync())
{
    await SeedZonesAsync(sql, pageAccount, "p", ZonePageAccountZones - 1);
    await SeedZonesAsync(sql, listAccount, "l", ListAccountZones);
    await SeedTrafficAsync(sql, zoneId, pageAccount, dataCenters);
}

var seeded = seeding.Elapsed;
Console.WriteLine($"seeded in {seeded.TotalSeconds:F0} s");

using var pageBrowser = new DashboardBrowser(api);
(await pageBrowser.SignInAsync(pageToken)).EnsureSuccessStatusCode();
using var listBrowser = new DashboardBrowser(api);
(await listBrowser.SignInAsync(listToken)).EnsureSuccessStatusCode();

var rows = new List<Row>();
var since = DateTime.UtcNow.AddHours(-24);
since = new DateTime(since.Ticks - since.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc).AddMinutes(1);
rows.Add(await MeasureAsync(
    "zone page (10k zones in the account, 24 h of minute buckets, 3 DCs)",
    () => pageBrowser.GetAsync($"/dashboard/zones/{zoneId}"),
    [
        () => pageRest.GetAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports"),
        () => pageRest.GetAsync($"/client/v4/zones/{zoneId}/settings/disable_http_ports/rollout"),
        () => pageRest.GetAsync($"/client/v4/zones/{zoneId}/analytics/plaintext_http?granularity=minute&since={since:yyyy-MM-ddTHH:mm:ssZ}"),
    ]));

const int PerPage = 20;
var lastPage = (ListAccountZones + PerPage - 1) / PerPage;
foreach (var (label, query, rest) in new[]
{
    ("zones list, 100k zones: page 1", "page=1", "page=1"),
    ("zones list, 100k zones: middle page", $"page={lastPage / 2}", $"page={lastPage / 2}"),
    ("zones list, 100k zones: last page", $"page={lastPage}", $"page={lastPage}"),
    ("zones list, 100k zones: search", "search=l4242", "name=contains:l4242"),
})
{
    rows.Add(await MeasureAsync(label, () => listBrowser.GetAsync($"/dashboard/zones?{query}"),
        [() => listRest.GetAsync($"/client/v4/zones?per_page={PerPage}&order=name&direction=asc&{rest}")]));
}

var searchMatches = (await listRest.GetFromJsonAsync<System.Text.Json.JsonElement>($"/client/v4/zones?per_page={PerPage}&name=contains:l4242"))
    .GetProperty("result_info").GetProperty("total_count").GetInt32();
var report = new StringBuilder();
void Say(string line)
{
    Console.WriteLine(line);
    report.AppendLine(line);
}

Say("# Dashboard benchmarks");
Say("");
Say(string.Create(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores by `scripts/bench-dashboard`; Release build, the API in-process on real Kestrel (HTTPS, loopback), the test PostgreSQL and RabbitMQ. Nothing here is asserted."));
Say("");
Say(string.Create(CultureInfo.InvariantCulture, $"Each figure is the median (and p90) of {samples} requests after 5 warm-up requests, page and baseline interleaved in the same run. **Server time** is the `Server-Timing: app;dur=` header: the time from the request entering the API's pipeline to the response's first byte. **Complete** is the client's time to the last byte over loopback. The zone page is stream-rendered (its live rollout), so its first byte is an early flush: its goal is judged on the complete page. The baseline is the same data through the REST API with a bearer token: for the zone page the three calls the page's data comes from (the setting, its rollout, the 24 h minute series), one after another, their times summed; for the zones list the same page of `GET /client/v4/zones`."));
Say("");
Say("| request | page: server time p50 (p90) | page: complete p50 (p90) | REST baseline: server time p50 | REST baseline: complete p50 | page / REST (complete, p50) | goal |");
Say("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
foreach (var row in rows)
{
    var goal = row.Label.StartsWith("zone page", StringComparison.Ordinal) ? "≤ 300 ms, ratio ≤ 3" : "≤ 300 ms a page";
    Say(string.Create(CultureInfo.InvariantCulture,
        $"| {row.Label} | {Median(row.PageServer):F1} ms ({P90(row.PageServer):F1}) | {Median(row.PageComplete):F1} ms ({P90(row.PageComplete):F1}) | {Median(row.RestServer):F1} ms | {Median(row.RestComplete):F1} ms | {Median(row.PageComplete) / Median(row.RestComplete):F2} | {goal} |"));
}

Say("");
Say(string.Create(CultureInfo.InvariantCulture, $"Data: the zone page's account holds {ZonePageAccountZones:N0} zones; its zone has 1,440 minute buckets and 720 hour buckets from each of {dataCenters.Length} DCs, and {TrafficFillerZones} other zones a day of minute buckets each ({TrafficFillerZones * 1440 * dataCenters.Length:N0} rows) so the table is not the page zone's alone. The list account holds {ListAccountZones:N0} zones, a third of them with `disable_http_ports` on; the search matches {searchMatches} of them by substring (`contains:`). Seeding took {seeded.TotalSeconds:F0} s."));
await File.WriteAllTextAsync(output, report.ToString());
Console.WriteLine($"written to {output}");
return 0;

async Task<Row> MeasureAsync(string label, Func<Task<HttpResponseMessage>> page, Func<Task<HttpResponseMessage>>[] rest)
{
    var row = new Row(label);
    for (var i = -5; i < samples; i++)
    {
        var (pageServer, pageComplete) = await TimeAsync(page);
        double restServer = 0, restComplete = 0;
        foreach (var call in rest)
        {
            var (server, complete) = await TimeAsync(call);
            restServer += server;
            restComplete += complete;
        }

        if (i >= 0)
        {
            row.PageServer.Add(pageServer);
            row.PageComplete.Add(pageComplete);
            row.RestServer.Add(restServer);
            row.RestComplete.Add(restComplete);
        }
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: page {Median(row.PageComplete):F1} ms, REST {Median(row.RestComplete):F1} ms"));
    return row;
}

// One request: its Server-Timing (ms) and the client's time to the last byte (ms).
static async Task<(double Server, double Complete)> TimeAsync(Func<Task<HttpResponseMessage>> send)
{
    var watch = Stopwatch.StartNew();
    using var response = await send();
    var body = await response.Content.ReadAsStringAsync();
    watch.Stop();
    if (!response.IsSuccessStatusCode || body.Length == 0)
    {
        throw new InvalidOperationException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode}");
    }

    var timing = response.Headers.GetValues("Server-Timing").Single();
    var server = double.Parse(timing[(ServerTiming.Metric.Length + ";dur=".Length)..], CultureInfo.InvariantCulture);
    return (server, watch.Elapsed.TotalMilliseconds);
}

static double Median(List<double> values) => Percentile(values, 0.5);

static double P90(List<double> values) => Percentile(values, 0.9);

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))];
}

async Task<NpgsqlConnection> OpenAdminAsync()
{
    // The admin role, as the migrations run: the seed writes across accounts, outside any tenant.
    var builder = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdmin) { Database = database.Name };
    var connection = new NpgsqlConnection(builder.ConnectionString);
    await connection.OpenAsync();
    return connection;
}

// Zones named {prefix}{n}.bench.example, ids as the API makes them (32 hex digits); every third closed.
static async Task SeedZonesAsync(NpgsqlConnection sql, string accountId, string prefix, int count)
{
    await using var insert = new NpgsqlCommand(
        """
        INSERT INTO zones (id, account_id, name, name_unicode, paused, type, created_on, modified_on, http_ports_closed, setting_modified_on, revision)
        SELECT md5(@prefix || g), @account, @prefix || g || '.bench.example', @prefix || g || '.bench.example', false, 'full',
               now(), now(), g % 3 = 0, now(), 0
        FROM generate_series(1, @count) AS g
        """, sql);
    insert.Parameters.AddWithValue("prefix", prefix);
    insert.Parameters.AddWithValue("account", accountId);
    insert.Parameters.AddWithValue("count", count);
    insert.CommandTimeout = 600;
    await insert.ExecuteNonQueryAsync();
}

static async Task SeedTrafficAsync(NpgsqlConnection sql, string zoneId, string accountId, string[] dataCenters)
{
    await using var insert = new NpgsqlCommand(
        """
        INSERT INTO traffic_minutes (zone_id, data_center, start, attempted_v4, attempted_v6, blocked_v4, blocked_v6)
        SELECT z.id, dc, date_trunc('minute', now()) - make_interval(mins => m), 3, 1, m % 2, 0
        FROM (SELECT @zone AS id UNION ALL (SELECT id FROM zones WHERE account_id = @account AND id <> @zone LIMIT @filler)) AS z,
             unnest(@dcs) AS dc, generate_series(1, 1440) AS m;
        INSERT INTO traffic_hours (zone_id, data_center, start, attempted_v4, attempted_v6, blocked_v4, blocked_v6)
        SELECT @zone, dc, date_trunc('hour', now()) - make_interval(hours => h), 180, 60, 30, 0
        FROM unnest(@dcs) AS dc, generate_series(1, 720) AS h;
        ANALYZE zones; ANALYZE traffic_minutes; ANALYZE traffic_hours;
        """, sql);
    insert.Parameters.AddWithValue("zone", zoneId);
    insert.Parameters.AddWithValue("account", accountId);
    insert.Parameters.AddWithValue("filler", TrafficFillerZones);
    insert.Parameters.AddWithValue("dcs", dataCenters);
    insert.CommandTimeout = 600;
    await insert.ExecuteNonQueryAsync();
}

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

/// <summary>One measured request kind: the page's and its REST baseline's times, in milliseconds.</summary>
internal sealed record Row(string Label)
{
    public List<double> PageServer { get; } = [];

    public List<double> PageComplete { get; } = [];

    public List<double> RestServer { get; } = [];

    public List<double> RestComplete { get; } = [];
}
