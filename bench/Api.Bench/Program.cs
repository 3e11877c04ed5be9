using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Npgsql;

// The parts of scripts/bench-api that are not wrk. Every figure is printed; the script
// collects them into docs/benchmarks-api.md.
//   setup <api-url> <ca.crt> <operator-token> <zones>      account, token, zones; prints "token <t>", "zone <id>" lines
//   kestrel <port> <cert.pem> <key.pem> <body-bytes>        the baseline: bare Kestrel over HTTPS, a JSON body of that size
//   open-loop <url> <ca.crt> <token> <rate/s> <seconds>     requests at a fixed rate (no coordinated omission)
//   write-baseline <connection-string> <zones-file> <connections> <seconds>
//                                                           the API's write transaction as a bare Npgsql loop
return args.FirstOrDefault() switch
{
    "setup" when args.Length == 5 => await SetupAsync(new Uri(args[1]), args[2], args[3], int.Parse(args[4], CultureInfo.InvariantCulture)),
    "kestrel" when args.Length == 5 => await KestrelBaselineAsync(int.Parse(args[1], CultureInfo.InvariantCulture), args[2], args[3], int.Parse(args[4], CultureInfo.InvariantCulture)),
    "open-loop" when args.Length == 6 => await OpenLoopAsync(new Uri(args[1]), args[2], args[3], double.Parse(args[4], CultureInfo.InvariantCulture), int.Parse(args[5], CultureInfo.InvariantCulture)),
    "write-baseline" when args.Length == 5 => await WriteBaselineAsync(args[1], File.ReadAllLines(args[2]), int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Api.Bench setup|kestrel|open-loop|write-baseline … (see the comment at the top of Program.cs)");
    return 2;
}

static HttpClient Client(Uri baseAddress, string caPath, int connections)
{
    var authority = X509Certificate2.CreateFromPem(File.ReadAllText(caPath));
    var handler = new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(authority);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return certificate is not null && chain.Build(new X509Certificate2(certificate));
            },
        },
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    };
    return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
}

static async Task<int> SetupAsync(Uri api, string ca, string operatorToken, int zones)
{
    using var client = Client(api, ca, 4);
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", operatorToken);
    var account = await Result(await client.PostAsJsonAsync("/operator/v1/accounts", new { name = "api bench" }));
    var accountId = account.GetProperty("id").GetString();
    var permissions = new[] { "5ac1a0e7b5e94bb8a1a8e1d2f3c40001", "5ac1a0e7b5e94bb8a1a8e1d2f3c40002", "5ac1a0e7b5e94bb8a1a8e1d2f3c40004" };
    var token = (await Result(await client.PostAsJsonAsync($"/operator/v1/accounts/{accountId}/tokens", new
    {
        name = "bench",
        policies = new[]
        {
            new
            {
                effect = "allow",
                permission_groups = permissions.Select(id => new { id }).ToArray(),
                resources = new Dictionary<string, string> { [$"com.cloudflare.api.account.{accountId}"] = "*" },
            },
        },
    }))).GetProperty("value").GetString()!;
    Console.WriteLine($"token {token}");
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    for (var i = 0; i < zones; i++)
    {
        var zone = await Result(await client.PostAsJsonAsync("/client/v4/zones", new { account = new { id = accountId }, name = $"bench-{Guid.NewGuid():N}"[..18] + ".example.com" }));
        Console.WriteLine($"zone {zone.GetProperty("id").GetString()}");
    }

    return 0;
}

// The baseline of the read ratio: what Kestrel alone serves over the same TLS, no database.
static async Task<int> KestrelBaselineAsync(int port, string certificatePath, string keyPath, int bodyBytes)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(certificate)));
    var app = builder.Build();
    // A JSON body of the API's size: {"success":true,"padding":"xxxx…"}.
    var body = Encoding.UTF8.GetBytes("{\"success\":true,\"padding\":\"" + new string('x', Math.Max(0, bodyBytes - 29)) + "\"}");
    app.MapGet("/client/v4/zones/{id}", (HttpContext context) =>
    {
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(body).AsTask();
    });
    await app.RunAsync();
    return 0;
}

// Requests start on a fixed schedule whatever the server does, and each latency counts from
// its scheduled start, so a slow server cannot hide its queue (wrk2's correction).
static async Task<int> OpenLoopAsync(Uri url, string ca, string token, double rate, int seconds)
{
    using var client = Client(new Uri(url.GetLeftPart(UriPartial.Authority)), ca, 256);
    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    var path = url.PathAndQuery;
    for (var i = 0; i < 200; i++)
    {
        using var warm = await client.GetAsync(path);
    }

    // The first seconds run at the full rate but are not measured: the client opens its
    // connections (a TLS handshake each) and the server's pools fill, as wrk2's calibration does.
    var warmup = (int)(rate * Math.Min(3, seconds));
    var total = warmup + (int)(rate * seconds);
    var latencies = new double[total];
    var failures = 0;
    var clock = Stopwatch.StartNew();
    var requests = new List<Task>(total);
    for (var i = 0; i < total; i++)
    {
        var scheduled = TimeSpan.FromSeconds(i / rate);
        var wait = scheduled - clock.Elapsed;
        if (wait > TimeSpan.FromMilliseconds(1))
        {
            await Task.Delay(wait);
        }

        var index = i;
        requests.Add(Task.Run(async () =>
        {
            try
            {
                using var response = await client.GetAsync(path);
                await response.Content.ReadAsByteArrayAsync();
                if (!response.IsSuccessStatusCode && index >= warmup)
                {
                    Interlocked.Increment(ref failures);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // A refused connection or a request past the client's timeout: a failure, timed as the rest.
                if (index >= warmup)
                {
                    Interlocked.Increment(ref failures);
                }
            }

            latencies[index] = (clock.Elapsed - scheduled).TotalMilliseconds;
        }));
    }

    await Task.WhenAll(requests);
    var elapsed = clock.Elapsed.TotalSeconds - warmup / rate;
    latencies = latencies[warmup..];
    total -= warmup;
    Array.Sort(latencies);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"open-loop rate={rate:F0}/s achieved={total / elapsed:F0}/s requests={total} failures={failures} p50={Percentile(latencies, 0.50):F2}ms p90={Percentile(latencies, 0.90):F2}ms p99={Percentile(latencies, 0.99):F2}ms max={latencies[^1]:F2}ms"));
    return failures == 0 ? 0 : 1;
}

// The write path without the API: the same transaction the unit of work commits for a
// PATCH disable_http_ports (lock the zone, update it, insert the audit entry, take the
// revision and append the change-log row in one statement, commit), on the same database.
static async Task<int> WriteBaselineAsync(string connectionString, string[] zoneIds, int connections, int seconds)
{
    await using var source = NpgsqlDataSource.Create(connectionString);
    var states = new Dictionary<string, (bool Closed, string[] Addresses)>();
    await using (var read = source.CreateCommand("SELECT z.id, z.http_ports_closed, array_agg(a.address ORDER BY a.address) FROM zones z JOIN edge_addresses a ON a.zone_id = z.id WHERE z.id = ANY(@ids) GROUP BY z.id, z.http_ports_closed"))
    {
        read.Parameters.AddWithValue("ids", zoneIds);
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            states[reader.GetString(0)] = (reader.GetBoolean(1), reader.GetFieldValue<string[]>(2));
        }
    }

    var stop = Stopwatch.StartNew();
    var latencies = new List<double>[connections];
    var workers = Enumerable.Range(0, connections).Select(worker => Task.Run(async () =>
    {
        latencies[worker] = [];
        await using var connection = await source.OpenConnectionAsync();
        for (var i = worker; stop.Elapsed < TimeSpan.FromSeconds(seconds); i += connections)
        {
            var zoneId = zoneIds[i % zoneIds.Length];
            var closed = (i / zoneIds.Length) % 2 == 0;
            var started = Stopwatch.GetTimestamp();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var select = new NpgsqlCommand("SELECT z.*, a.* FROM zones z JOIN accounts ac ON ac.id = z.account_id LEFT JOIN edge_addresses a ON a.zone_id = z.id WHERE z.id IN (SELECT id FROM zones WHERE id = @id FOR NO KEY UPDATE)", connection, transaction))
            {
                select.Parameters.AddWithValue("id", zoneId);
                await using var reader = await select.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                }
            }

            await using (var batch = new NpgsqlBatch(connection, transaction))
            {
                var update = new NpgsqlBatchCommand("UPDATE zones SET http_ports_closed = @closed, setting_modified_on = now() WHERE id = @id");
                update.Parameters.AddWithValue("closed", closed);
                update.Parameters.AddWithValue("id", zoneId);
                var audit = new NpgsqlBatchCommand("INSERT INTO audit_logs (id, account_id, action_type, action_result, actor_type, resource_type, resource_id, new_value, \"when\") SELECT @aid, account_id, 'zone.settings.update', true, 'token', 'zone_setting', id, @value::jsonb, now() FROM zones WHERE id = @id");
                audit.Parameters.AddWithValue("aid", Guid.NewGuid().ToString("N"));
                audit.Parameters.AddWithValue("value", closed ? "{\"value\":\"on\"}" : "{\"value\":\"off\"}");
                audit.Parameters.AddWithValue("id", zoneId);
                batch.BatchCommands.Add(update);
                batch.BatchCommands.Add(audit);
                await batch.ExecuteNonQueryAsync();
            }

            await using (var append = new NpgsqlCommand("""
                WITH next AS (UPDATE revision_sequencer SET last_revision = last_revision + 1 WHERE id = 1 RETURNING last_revision),
                stamped AS (UPDATE zones SET revision = next.last_revision FROM next WHERE zones.id = ANY(@ids)),
                logged AS (INSERT INTO change_log (revision, created_on, zones)
                    SELECT next.last_revision, now(), (SELECT jsonb_agg(jsonb_set(zone, ARRAY['revision'], to_jsonb(next.last_revision))) FROM jsonb_array_elements(@zones::jsonb) AS zone) FROM next)
                SELECT next.last_revision FROM next, LATERAL (SELECT pg_notify('change_log', next.last_revision::text)) AS notified
                """, connection, transaction))
            {
                var addresses = states[zoneId].Addresses;
                append.Parameters.AddWithValue("ids", new[] { zoneId });
                append.Parameters.AddWithValue("zones", JsonSerializer.Serialize(new[] { new { zoneId, revision = 0, addresses, httpPortsClosed = closed, enforceIn = (string[]?)null } }));
                await append.ExecuteScalarAsync();
            }

            await transaction.CommitAsync();
            latencies[worker].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    })).ToList();
    await Task.WhenAll(workers);
    var all = latencies.SelectMany(l => l).Order().ToArray();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"write-baseline connections={connections} transactions={all.Length} rate={all.Length / stop.Elapsed.TotalSeconds:F0}/s p50={Percentile(all, 0.50):F2}ms p99={Percentile(all, 0.99):F2}ms"));
    return 0;
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * p))];

static async Task<JsonElement> Result(HttpResponseMessage response)
{
    var body = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"{(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {body}");
    }

    return JsonDocument.Parse(body).RootElement.GetProperty("result").Clone();
}
