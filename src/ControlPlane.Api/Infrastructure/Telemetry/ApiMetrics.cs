using System.Diagnostics.Metrics;

namespace ControlPlane.Api.Infrastructure.Telemetry;

/// <summary>
/// The API's own instruments (meter <c>ControlPlane.Api</c>), named after the OpenTelemetry
/// semantic conventions: dotted names, durations in seconds. The Prometheus exporter turns
/// <c>controlplane.propagation.duration</c> (unit <c>s</c>) into
/// <c>controlplane_propagation_duration_seconds</c>. The catalogue with every label is in
/// docs/operations.md. Created through <see cref="IMeterFactory"/>, so two hosts in one process
/// (the tests) keep separate measurements.
/// </summary>
public sealed class ApiMetrics
{
    public const string MeterName = "ControlPlane.Api";

    /// <summary>Bucket bounds in seconds for latencies from a millisecond to ten minutes.</summary>
    internal static readonly IReadOnlyList<double> SecondsBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    private readonly Counter<long> tokenCacheLookups;
    private readonly Counter<long> rateLimitRejections;
    private readonly Histogram<double> publishDuration;
    private readonly Histogram<double> propagationDuration;
    private readonly Counter<long> trafficReports;
    private readonly Counter<long> trafficRows;
    private readonly Counter<long> signInFailures;

    public ApiMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        tokenCacheLookups = Meter.CreateCounter<long>("controlplane.token_cache.lookups", "{lookup}",
            "Token authentications, by whether the token came from memory (result=hit) or the database (result=miss).");
        rateLimitRejections = Meter.CreateCounter<long>("controlplane.rate_limit.rejections", "{request}",
            "Requests refused with 429 (code 971) because their token's bucket was empty.");
        publishDuration = Meter.CreateHistogram("controlplane.dispatch.publish.duration", "s",
            "Time to publish one change-log row to the broker, until its publisher confirm.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        propagationDuration = Meter.CreateHistogram("controlplane.propagation.duration", "s",
            "Per revision and data center: from the change-log row's created_on to this API's receipt of the DC's first report whose watermark reaches it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        trafficReports = Meter.CreateCounter<long>("controlplane.traffic.reports", "{report}",
            "Plaintext-traffic reports consumed: counted, duplicate (seen before, added nothing) or dropped (empty, or from an unregistered DC).");
        trafficRows = Meter.CreateCounter<long>("controlplane.traffic.rows", "{row}",
            "Per-zone rows of counted traffic reports.");

        // Every counter series starts at 0, so a scrape lists it before its first event and
        // increase() in an alert sees the first one (a series that appears at 1 shows no increase).
        foreach (var result in CacheResults)
        {
            tokenCacheLookups.Add(0, new KeyValuePair<string, object?>("result", result));
        }

        rateLimitRejections.Add(0);
        foreach (var result in TrafficResults)
        {
            trafficReports.Add(0, new KeyValuePair<string, object?>("result", result));
        }

        trafficRows.Add(0);
        signInFailures = Meter.CreateCounter<long>("controlplane.dashboard.sign_in.failures", "{attempt}",
            "Dashboard sign-ins refused, by reason: invalid_token, throttled (too many failures from the client's address).");
        foreach (var reason in SignInFailureReasons)
        {
            signInFailures.Add(0, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    private static readonly string[] SignInFailureReasons = ["invalid_token", "throttled"];

    /// <summary>A refused dashboard sign-in: <c>invalid_token</c> or <c>throttled</c>.</summary>
    public void DashboardSignInFailed(string reason) => signInFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    private static readonly string[] CacheResults = ["hit", "miss"];
    private static readonly string[] TrafficResults = ["counted", "duplicate", "dropped"];

    /// <summary>The meter itself, for the observable gauges of <see cref="FleetMetrics"/>.</summary>
    public Meter Meter { get; }

    public void TokenCacheLookup(bool hit) => tokenCacheLookups.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));

    public void RateLimitRejected() => rateLimitRejections.Add(1);

    /// <summary>One publish with its confirm, in seconds.</summary>
    public void Published(double seconds) => publishDuration.Record(seconds);

    /// <summary>One revision reached <paramref name="dataCenter"/>, <paramref name="seconds"/> after it was written.</summary>
    public void Propagated(string dataCenter, double seconds) =>
        propagationDuration.Record(seconds, new KeyValuePair<string, object?>("data_center", dataCenter));

    /// <summary>A traffic report: <c>counted</c> (with its zone rows), <c>duplicate</c> or <c>dropped</c>.</summary>
    public void TrafficReport(string result, int rows = 0)
    {
        trafficReports.Add(1, new KeyValuePair<string, object?>("result", result));
        if (rows > 0)
        {
            trafficRows.Add(rows);
        }
    }
}
