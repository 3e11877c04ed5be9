using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

// Usage: Api.Bench <base-url> <ca.crt> <operator-token> [output.md]
// Creates an account, a token and a zone through the public API, then times
// sequential GET /client/v4/zones/{id} calls over one keep-alive HTTPS connection.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: Api.Bench <base-url> <ca.crt> <operator-token> [output.md]");
    return 2;
}

var baseUrl = new Uri(args[0]);
using var authority = X509Certificate2.CreateFromPem(File.ReadAllText(args[1]));
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
    MaxConnectionsPerServer = 1,
};
using var operatorClient = new HttpClient(handler, disposeHandler: false) { BaseAddress = baseUrl };
operatorClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", args[2]);

var account = await Result(await operatorClient.PostAsJsonAsync("/operator/v1/accounts", new { name = "latency bench" }));
var accountId = account.GetProperty("id").GetString();
var token = await Result(await operatorClient.PostAsJsonAsync($"/operator/v1/accounts/{accountId}/tokens", new
{
    name = "bench",
    policies = new[] { new { effect = "allow", permission_groups = new[] { new { id = "5ac1a0e7b5e94bb8a1a8e1d2f3c40002" } }, resources = new Dictionary<string, string> { [$"com.cloudflare.api.account.{accountId}"] = "*" } } },
}));
using var client = new HttpClient(handler, disposeHandler: false) { BaseAddress = baseUrl };
client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.GetProperty("value").GetString());
var zone = await Result(await client.PostAsJsonAsync("/client/v4/zones", new { account = new { id = accountId }, name = $"bench-{Guid.NewGuid():N}"[..18] + ".example.com" }));
var route = $"/client/v4/zones/{zone.GetProperty("id").GetString()}";

const int Warmup = 100;
const int Samples = 1000;
var times = new List<double>();
for (var i = 0; i < Warmup + Samples; i++)
{
    var watch = Stopwatch.StartNew();
    using var response = await client.GetAsync(route);
    await response.Content.ReadAsByteArrayAsync();
    watch.Stop();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"GET {route}: {(int)response.StatusCode}");
    }

    if (i >= Warmup)
    {
        times.Add(watch.Elapsed.TotalMilliseconds);
    }
}

times.Sort();
string P(double q) => times[(int)Math.Min(times.Count - 1, q * times.Count)].ToString("F2", CultureInfo.InvariantCulture);
var report = $"""
    # API latency

    `GET /client/v4/zones/{"{id}"}` against the stack of `scripts/up` (Release build, Postgres and RabbitMQ local),
    {Samples} sequential requests after {Warmup} warm-up ones, one keep-alive HTTPS connection, measured in the client
    (`scripts/bench-api`, run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores).

    | p50 | p90 | p99 | max |
    | ---: | ---: | ---: | ---: |
    | {P(0.5)} ms | {P(0.9)} ms | {P(0.99)} ms | {times[^1].ToString("F2", CultureInfo.InvariantCulture)} ms |

    Each request authenticates the token (one indexed lookup by SHA-256) and reads the zone with its
    addresses (one query); the per-token rate limit allows 1200 per 5 minutes, so the run uses a
    fresh token and stays under it.
    """;
Console.WriteLine(report);
if (args.Length > 3)
{
    await File.WriteAllTextAsync(args[3], report + Environment.NewLine);
}

return 0;

static async Task<JsonElement> Result(HttpResponseMessage response)
{
    var text = await response.Content.ReadAsStringAsync();
    return response.IsSuccessStatusCode
        ? JsonDocument.Parse(text).RootElement.GetProperty("result").Clone()
        : throw new InvalidOperationException($"{(int)response.StatusCode}: {text}");
}
