using System.Globalization;
using System.Threading.RateLimiting;

namespace ControlPlane.Api.Infrastructure;

/// <summary>Per-token request budget (section <c>RateLimit</c>), Cloudflare's by default.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimit";

    public int PermitLimit { get; set; } = 1200;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// A sliding window per token (per client address for requests without a valid
/// token). The window moves in 60 steps, so <c>retry-after</c> is a few seconds, not
/// the whole window. Over budget is 429 with code 971.
/// </summary>
public static class RateLimiting
{
    public const string PerToken = "per-token";

    public static IServiceCollection AddPerTokenRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(PerToken, context =>
            {
                var key = context.User.FindFirst(TokenAuthenticationHandler.TokenIdClaim)?.Value
                          ?? "ip:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.GetSlidingWindowLimiter(key, _ => new SlidingWindowRateLimiterOptions
                {
                    PermitLimit = options.PermitLimit,
                    Window = options.Window,
                    SegmentsPerWindow = 60,
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.Window / 60;
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return new ValueTask(EnvelopeErrors.WriteFailureAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimited,
                    "Rate limited. Please wait and consider throttling your request speed"));
            };
        });
        return services;
    }
}
