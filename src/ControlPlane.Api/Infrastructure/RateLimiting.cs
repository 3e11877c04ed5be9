using System.Globalization;
using System.Threading.RateLimiting;
using ControlPlane.Api.Infrastructure.Telemetry;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Per-token request budget (section <c>RateLimit</c>): a token bucket of
/// <see cref="Capacity"/> requests refilled at <see cref="RefillPerSecond"/>. The defaults
/// (1,200 and 4 per second) are Cloudflare's long-run budget of 1,200 requests per 5 minutes;
/// unlike a strict window, a full bucket admits up to 1,200 + 4 × 300 = 2,400 requests in the
/// first 5 minutes, and a client that ran it dry waits about a second, not minutes.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimit";

    /// <summary>Requests a token may make in a burst (the bucket's size).</summary>
    public int Capacity { get; set; } = 1200;

    /// <summary>Requests added back per second, in fractions (a bucket refills smoothly).</summary>
    public double RefillPerSecond { get; set; } = 4;
}

/// <summary>
/// A token bucket per token (per client address for requests without a valid token).
/// Over budget is 429 with code 971 and a <c>retry-after</c> that tells the truth: a client
/// that waits exactly that many seconds is admitted.
/// </summary>
public static class RateLimiting
{
    public const string PerToken = "per-token";

    /// <summary>
    /// How late a refill may come after its due time: the partitioned limiter refills its
    /// buckets on a 100 ms timer, so retry-after adds that before rounding up to seconds.
    /// </summary>
    private static readonly TimeSpan RefillTimerGranularity = TimeSpan.FromMilliseconds(100);

    public static IServiceCollection AddPerTokenRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(PerToken, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                var key = context.User.FindFirst(TokenAuthenticationHandler.TokenIdClaim)?.Value
                          ?? "ip:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.GetTokenBucketLimiter(key, _ => BucketOf(options));
            });
            limiter.OnRejected = (context, _) =>
            {
                context.HttpContext.RequestServices.GetRequiredService<ApiMetrics>().RateLimitRejected();
                var options = context.HttpContext.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : OneTokenIn(options);
                context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds(wait).ToString(CultureInfo.InvariantCulture);
                return new ValueTask(EnvelopeErrors.WriteFailureAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimited,
                    "Rate limited. Please wait and consider throttling your request speed"));
            };
        });
        return services;
    }

    /// <summary>One request's worth of refill is added every 1 / <see cref="RateLimitOptions.RefillPerSecond"/> seconds.</summary>
    internal static TokenBucketRateLimiterOptions BucketOf(RateLimitOptions options) => new()
    {
        TokenLimit = options.Capacity,
        TokensPerPeriod = 1,
        ReplenishmentPeriod = OneTokenIn(options),
        // The partitioned limiter refills every bucket from one 100 ms timer, in fractions.
        AutoReplenishment = false,
        QueueLimit = 0,
    };

    /// <summary>The <c>retry-after</c> value: the limiter's wait plus the refill timer's lateness, rounded up to whole seconds (at least 1).</summary>
    internal static int RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling((wait + RefillTimerGranularity).TotalSeconds));

    private static TimeSpan OneTokenIn(RateLimitOptions options) => TimeSpan.FromSeconds(1 / options.RefillPerSecond);
}
