using System.Security.Claims;
using System.Threading.RateLimiting;
using ControlPlane.Api.Data;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace ControlPlane.Api.Features.Dashboard;

/// <summary>
/// The dashboard under <c>/dashboard</c>, on the API's one HTTPS listener: Blazor components
/// rendered on the server, signed in with an API token (or the operator token) that is exchanged
/// for a server-side session (<see cref="DashboardSessionStore"/>). The cookie is
/// <c>__Host-</c>-prefixed, HttpOnly, Secure and <c>SameSite=Strict</c>, and holds only the session
/// id; Data Protection keys are in Postgres so every replica reads every cookie. The session is
/// checked against its token on every request: a revoked, expired or rolled token, or one used
/// from outside its IP condition, ends it.
/// </summary>
public static class DashboardSetup
{
    public const string Scheme = "Dashboard";
    public const string Policy = "Dashboard";
    public const string CookieName = "__Host-cp-dashboard";
    public const string BasePath = "/dashboard";

    /// <summary>Every dashboard response's Content-Security-Policy: no inline or foreign script, no framing.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "__Host-cp-antiforgery";
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            // X-Frame-Options: DENY comes with the dashboard's headers instead of the antiforgery's SAMEORIGIN.
            antiforgery.SuppressXFrameOptionsHeader = true;
        });
        builder.Services.AddMudServices();
        builder.Services.AddDataProtection().SetApplicationName("controlplane").PersistKeysToDbContext<ControlPlaneDbContext>();
        builder.Services.AddSingleton<DashboardSessionStore>();
        builder.Services.AddSingleton<SignInThrottle>();
        builder.Services.AddScoped<DashboardSignIn>();
        builder.Services.AddScoped<DashboardWrites>();
        builder.Services.AddAuthentication().AddCookie(Scheme, cookie =>
        {
            cookie.Cookie.Name = CookieName;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.Path = "/";
            cookie.LoginPath = BasePath + "/sign-in";
            cookie.LogoutPath = BasePath + "/sign-out";
            cookie.AccessDeniedPath = BasePath + "/sign-in";
            cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
            cookie.SlidingExpiration = true;
            cookie.Events.OnValidatePrincipal = RevalidateAsync;
        });
        builder.Services.AddOptions<CookieAuthenticationOptions>(Scheme)
            .Configure<DashboardSessionStore>((cookie, store) => cookie.SessionStore = store);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());
        return builder;
    }

    /// <summary>Security headers, then the components, then the framework's and MudBlazor's static files (all served locally).</summary>
    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<Components.App>();
        app.MapGet(BasePath, () => Results.Redirect(BasePath + "/zones")).ExcludeFromDescription();
        app.MapPost(BasePath + "/sign-out", SignOutAsync).ExcludeFromDescription();
        return app;
    }

    /// <summary>Adds HSTS to every response, and the CSP and framing headers to the dashboard's.</summary>
    public static IApplicationBuilder UseDashboardHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.StrictTransportSecurity = "max-age=31536000";
            var path = context.Request.Path;
            if (path.StartsWithSegments(BasePath) || path.StartsWithSegments("/dashboard-assets") || path.StartsWithSegments("/_content") || path.StartsWithSegments("/_framework"))
            {
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XFrameOptions = "DENY";
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
            }

            return Task.CompletedTask;
        });
        await next(context);
    });

    /// <summary>Ends the session (its row is deleted, so a copied cookie is dead too); the form must carry the antiforgery token.</summary>
    private static async Task<IResult> SignOutAsync(HttpContext context, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery)
    {
        // The session first: the form's antiforgery token was issued to the signed-in user, and the
        // cookie handler learns which session row to delete.
        if ((await context.AuthenticateAsync(Scheme)).Principal is { } user)
        {
            context.User = user;
        }

        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.BadRequest("The form has no valid antiforgery token; reload the page and try again.");
        }

        await context.SignOutAsync(Scheme);
        return Results.Redirect(BasePath + "/sign-in");
    }

    /// <summary>Checks the session's token on every request; a token no longer valid ends the session.</summary>
    private static async Task RevalidateAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var signIn = services.GetRequiredService<DashboardSignIn>();
        if (context.Principal is not { } principal || !await signIn.RevalidateAsync(principal, context.HttpContext.RequestAborted))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
        }
    }
}

/// <summary>
/// Failed sign-ins per client address: 10 in a burst, one more every 6 s. There is no account to
/// audit them under, so they are logged and counted instead.
/// </summary>
public sealed class SignInThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> limiter = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = 10,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(6),
            QueueLimit = 0,
        }));

    /// <summary>True when <paramref name="address"/> may try again; each failed attempt spends one.</summary>
    public bool MayTry(string address)
    {
        using var lease = limiter.AttemptAcquire(address, 0);
        return lease.IsAcquired;
    }

    /// <summary>Spends one attempt of <paramref name="address"/>.</summary>
    public void Failed(string address)
    {
        using var _ = limiter.AttemptAcquire(address, 1);
    }

    public void Dispose() => limiter.Dispose();
}

/// <summary>
/// Signing in with a token, and checking a session's token again, through the API's own checks:
/// <see cref="TokenAuthenticator"/> for customer tokens, the configured hash for the operator.
/// On success the request's <see cref="Caller"/> and <see cref="RequestTenant"/> are set exactly as
/// the bearer schemes set them, so the dashboard can do nothing the token cannot do through the API.
/// </summary>
public sealed class DashboardSignIn(
    TokenAuthenticator tokens,
    IOptions<OperatorOptions> operatorOptions,
    Caller caller,
    RequestTenant tenant,
    IHttpContextAccessor http)
{
    /// <summary>A principal for the session of <paramref name="secret"/>, or null when it is not a usable token here.</summary>
    public async Task<ClaimsPrincipal?> SignInAsync(string secret, CancellationToken cancellationToken)
    {
        var hash = Ids.Hash(secret);
        if (IsOperator(hash))
        {
            return Principal("operator", null, null, hash);
        }

        var check = await tokens.CheckAsync(hash, ClientAddress.Of(http.HttpContext!), cancellationToken);
        return check.Token is { } token ? Principal("customer", token.Id, token.AccountId, hash) : null;
    }

    /// <summary>True when the session's token is still valid from this client; then the request acts as that token.</summary>
    public async Task<bool> RevalidateAsync(ClaimsPrincipal principal, CancellationToken cancellationToken)
    {
        if (principal.FindFirst(DashboardClaims.CredentialSha256)?.Value is not { Length: 64 } hex)
        {
            return false;
        }

        var hash = Convert.FromHexString(hex);
        if (principal.IsInRole("operator"))
        {
            if (!IsOperator(hash))
            {
                return false;
            }

            caller.SetOperator();
            tenant.SetOperator();
            return true;
        }

        var tokenId = principal.FindFirst(DashboardClaims.TokenId)?.Value;
        var check = await tokens.CheckAsync(hash, ClientAddress.Of(http.HttpContext!), cancellationToken);
        if (check.Token is not { } token || token.Id != tokenId)
        {
            return false;
        }

        caller.SetToken(token);
        tenant.SetCustomer(token.AccountId);
        return true;
    }

    private bool IsOperator(byte[] hash) => Bearer.HashMatches(hash, operatorOptions.Value.TokenSha256);

    private static ClaimsPrincipal Principal(string role, string? tokenId, string? accountId, byte[] hash)
    {
        var claims = new List<Claim> { new(DashboardClaims.Role, role), new(DashboardClaims.CredentialSha256, Convert.ToHexStringLower(hash)) };
        if (tokenId is not null)
        {
            claims.Add(new Claim(DashboardClaims.TokenId, tokenId));
            claims.Add(new Claim(DashboardClaims.AccountId, accountId!));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, DashboardSetup.Scheme, ClaimTypes.Name, DashboardClaims.Role));
    }
}
