using System.Net;
using System.Text.RegularExpressions;
using ControlPlane.Api.Features.Analytics;
using ControlPlane.Api.Features.Zones;

namespace ControlPlane.Api.Infrastructure;

/// <summary>The connection strings (section <c>ConnectionStrings</c>), bound and validated like every other option.</summary>
public sealed class ConnectionStringOptions
{
    public const string Section = "ConnectionStrings";

    /// <summary>Npgsql connection string of the control-plane database.</summary>
    public string ControlPlane { get; set; } = "";

    /// <summary><c>amqp://user:password@host:port/vhost</c>.</summary>
    public string RabbitMq { get; set; } = "";
}

/// <summary>
/// Every setting of the API, one way: bound from its section into an options class,
/// validated at start (a bad value stops the host with an <c>OptionsValidationException</c>
/// naming the key), and read through <c>IOptions&lt;T&gt;</c>. The one exception is
/// <see cref="HttpsOptions"/> and <see cref="PlaintextOptions"/>, which Kestrel reads
/// while it builds its listeners, before the container exists; they are validated here too.
/// </summary>
public static partial class ApiOptions
{
    public static IServiceCollection AddApiOptions(this IServiceCollection services)
    {
        services.AddOptions<ConnectionStringOptions>().BindConfiguration(ConnectionStringOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.ControlPlane), "ConnectionStrings:ControlPlane must be set (an Npgsql connection string).")
            .Validate(o => Uri.TryCreate(o.RabbitMq, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps",
                "ConnectionStrings:RabbitMq must be an amqp:// or amqps:// URI.")
            .ValidateOnStart();
        services.AddOptions<HttpsOptions>().BindConfiguration(HttpsOptions.Section)
            .Validate(o => IPAddress.TryParse(o.Address, out _), "Https:Address must be an IP address.")
            .Validate(o => o.Port is >= 0 and <= 65535, "Https:Port must be 0 to 65535.")
            .ValidateOnStart();
        services.AddOptions<PlaintextOptions>().BindConfiguration(PlaintextOptions.Section)
            .Validate(o => !o.Enabled || o.TrustedProxies.Length > 0, "Plaintext:TrustedProxies must name at least one proxy when Plaintext:Enabled is true.")
            .Validate(o => o.TrustedProxies.All(p => IPAddress.TryParse(p, out _)), "Plaintext:TrustedProxies must be IP addresses.")
            .Validate(o => o.Port is >= 0 and <= 65535, "Plaintext:Port must be 0 to 65535.")
            .ValidateOnStart();
        services.AddOptions<OperatorOptions>().BindConfiguration(OperatorOptions.Section)
            .Validate(o => o.TokenSha256.Length == 0 || Sha256Hex().IsMatch(o.TokenSha256),
                "Operator:TokenSha256 must be the 64 hex digits of the operator token's SHA-256 (or empty: no operator access).")
            .ValidateOnStart();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section)
            .Validate(o => o.Capacity >= 1, "RateLimit:Capacity must be at least 1.")
            .Validate(o => o.RefillPerSecond is > 0 and <= 1_000_000, "RateLimit:RefillPerSecond must be above 0 and at most 1000000.")
            .ValidateOnStart();
        services.AddOptions<AuthenticationOptions>().BindConfiguration(AuthenticationOptions.Section)
            .Validate(o => o.LastUsedFlushInterval > TimeSpan.Zero, "Authentication:LastUsedFlushInterval must be positive.")
            .Validate(o => o.ListenerReconnectDelay > TimeSpan.Zero, "Authentication:ListenerReconnectDelay must be positive.")
            .ValidateOnStart();
        services.AddOptions<StatusOptions>().BindConfiguration(StatusOptions.Section)
            .Validate(o => o.StaleAfter > TimeSpan.Zero, "Status:StaleAfter must be positive.")
            .ValidateOnStart();
        services.AddOptions<AnalyticsOptions>().BindConfiguration(AnalyticsOptions.Section)
            .Validate(o => o.MinuteRetention > TimeSpan.Zero, "Analytics:MinuteRetention must be positive.")
            .Validate(o => o.HourRetention >= o.MinuteRetention, "Analytics:HourRetention must be at least Analytics:MinuteRetention.")
            .ValidateOnStart();
        services.AddOptions<AddressOptions>().BindConfiguration(AddressOptions.Section)
            .Validate(o => o.Quarantine >= TimeSpan.Zero, "Addresses:Quarantine must not be negative.")
            .ValidateOnStart();
        return services;
    }

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256Hex();
}
