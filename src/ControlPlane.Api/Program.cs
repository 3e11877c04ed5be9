using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Api.Data;
using ControlPlane.Api.Features.Accounts;
using ControlPlane.Api.Features.Agents;
using ControlPlane.Api.Features.Analytics;
using ControlPlane.Api.Features.AuditLogs;
using ControlPlane.Api.Features.Dashboard;
using ControlPlane.Api.Features.Edge;
using ControlPlane.Api.Features.Fleet;
using ControlPlane.Api.Features.Tokens;
using ControlPlane.Api.Features.Zones;
using ControlPlane.Api.Infrastructure;
using ControlPlane.Api.Infrastructure.Telemetry;
using ControlPlane.Messaging;
using FluentValidation;
using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

var builder = WebApplication.CreateBuilder(args);

builder.UseHttpsOnlyKestrel();
builder.Services.AddApiOptions();
builder.AddApiTelemetry();
builder.AddDashboard();

// Configuration is read lazily, inside the registrations, so hosts that add settings
// after Program starts (WebApplicationFactory in the tests) are honoured.
builder.Services.AddPooledDbContextFactory<ControlPlaneDbContext>((services, options) =>
{
    ControlPlaneDbContext.Configure(options, services.GetRequiredService<IOptions<ConnectionStringOptions>>().Value.ControlPlane);
    options.AddInterceptors(services.GetRequiredService<CommitSignalInterceptor>(), services.GetRequiredService<TokenChangeInterceptor>());
});
builder.Services.AddScoped<ScopedContextFactory>();
builder.Services.AddScoped(services => services.GetRequiredService<ScopedContextFactory>().CreateDbContext());
builder.Services.AddSingleton<DispatchSignal>();
builder.Services.AddSingleton<DispatchState>();
builder.Services.AddSingleton<CommitSignalInterceptor>();
builder.Services.AddHostedService<ChangeDispatcher>();
builder.Services.AddHostedService<TrafficRetention>();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddHttpContextAccessor();
builder.Services.AddScoped<RequestTenant>();
builder.Services.AddScoped<Caller>();
builder.Services.AddScoped<Audit>();
builder.Services.AddScoped<UnitOfWork>();
builder.Services.AddScoped<AddressAllocator>();
builder.Services.AddSingleton<TokenCache>();
builder.Services.AddScoped<TokenAuthenticator>();
builder.Services.AddSingleton<TokenChangeInterceptor>();
builder.Services.AddHostedService<TokenChangeListener>();
builder.Services.AddSingleton<TokenUsage>();
builder.Services.AddHostedService(services => services.GetRequiredService<TokenUsage>());
builder.Services.AddValidatorsFromAssemblyContaining<Program>();

builder.Services.AddMassTransit(bus =>
{
    bus.SetKebabCaseEndpointNameFormatter();
    // Edge networks run closed; the library must not phone home.
    bus.DisableUsageTelemetry();
    bus.AddConsumer<AgentStatusReportedConsumer, AgentStatusReportedConsumerDefinition>();
    bus.AddConsumer<PlaintextTrafficCountedConsumer, PlaintextTrafficCountedConsumerDefinition>();
    bus.ConfigureHealthCheckOptions(health =>
    {
        health.Name = "rabbitmq";
        health.MinimalFailureStatus = HealthStatus.Unhealthy;
        health.Tags.Add(HealthEndpoints.ReadyTag);
    });
    bus.UsingRabbitMq((context, rabbit) =>
    {
        rabbit.UseConnectionString(context.GetRequiredService<IOptions<ConnectionStringOptions>>().Value.RabbitMq);
        rabbit.UseConsumeFilter(typeof(SystemTenantFilter<>), context);
        rabbit.ConfigureEndpoints(context);
    });
});

builder.Services.AddHealthChecks()
    .AddNpgSql(services => services.GetRequiredService<IOptions<ConnectionStringOptions>>().Value.ControlPlane, name: "postgres", tags: [HealthEndpoints.ReadyTag], timeout: TimeSpan.FromSeconds(5));

builder.Services.AddAuthentication()
    .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null)
    .AddScheme<AuthenticationSchemeOptions, OperatorAuthenticationHandler>(OperatorAuthenticationHandler.SchemeName, null)
    .AddScheme<AuthenticationSchemeOptions, DataCenterAuthenticationHandler>(DataCenterAuthenticationHandler.SchemeName, null)
    .AddScheme<AuthenticationSchemeOptions, ScrapeAuthenticationHandler>(ScrapeAuthenticationHandler.SchemeName, null);
builder.Services.AddAuthorizationBuilder()
    .AddPolicy(TokenAuthenticationHandler.SchemeName, policy => policy
        .AddAuthenticationSchemes(TokenAuthenticationHandler.SchemeName)
        .RequireRole("customer"))
    .AddPolicy(OperatorAuthenticationHandler.SchemeName, policy => policy
        .AddAuthenticationSchemes(OperatorAuthenticationHandler.SchemeName)
        .RequireRole("operator"))
    .AddPolicy(DataCenterAuthenticationHandler.SchemeName, policy => policy
        .AddAuthenticationSchemes(DataCenterAuthenticationHandler.SchemeName)
        .RequireRole("edge"))
    .AddPolicy(ScrapeAuthenticationHandler.SchemeName, policy => policy
        .AddAuthenticationSchemes(ScrapeAuthenticationHandler.SchemeName)
        .RequireRole("scraper"));
builder.Services.AddPerTokenRateLimiting();

// Request-reading failures reach the one error path (EnvelopeErrors), in every environment,
// so they answer in Cloudflare's codes rather than with an empty 400.
builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
builder.Services.ConfigureHttpJsonOptions(json =>
{
    json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
    json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    json.SerializerOptions.Converters.Add(new UtcTimestampConverter());
});
builder.Services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
{
    document.Info.Title = "Edge control plane API";
    document.Info.Description = "Customer API (Cloudflare v4 compatible) under /client/v4, operator API under /operator/v1. HTTPS only.";
    // The committed document in openapi/ must not depend on where the API happens to listen.
    document.Servers = [];
    // Lets Swagger UI users paste a token ("Authorize") and try calls.
    document.Components ??= new OpenApiComponents();
    document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
    {
        ["bearer"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "An API token (customer routes) or the operator token (operator routes)." },
    };
    document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] }];
    return Task.CompletedTask;
}));

var app = builder.Build();

app.UseServerTiming();
app.UseDashboardHeaders();
app.UseHeadAsBodylessGet();
// Explicit, so routing sees HEAD already turned into GET (WebApplication would otherwise route first).
app.UseRouting();
app.UseEnvelopeErrors();
app.UseMiddleware<PlaintextGuard>();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.UseRateLimiter();
app.UseMiddleware<FailedWriteAudit>();
app.UseMiddleware<RequestInputGuard>();

app.MapOpenApi();
app.UseSwaggerUI(ui =>
{
    ui.SwaggerEndpoint("/openapi/v1.json", "Control plane API v1");
    ui.DocumentTitle = "Edge control plane API";
});

app.MapHealthEndpoints();
app.MapMetrics();
app.MapDashboard();

app.MapGroup("/client/v4")
    .RequireAuthorization(TokenAuthenticationHandler.SchemeName)
    .RequireRateLimiting(RateLimiting.PerToken)
    .WithDateBounds()
    .MapZonesApi()
    .MapSettingsApi()
    .MapRolloutApi()
    .MapAnalyticsApi()
    .MapAccountsApi()
    .MapTokensApi()
    .MapAuditLogsApi();

app.MapGroup("/operator/v1")
    .RequireAuthorization(OperatorAuthenticationHandler.SchemeName)
    .WithDateBounds()
    .MapOperatorApi()
    .MapAgentsApi();

app.MapGroup("/edge/v1")
    .RequireAuthorization(DataCenterAuthenticationHandler.SchemeName)
    .WithDateBounds()
    .MapEdgeApi();

app.Run();

/// <summary>The API's entry point, public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
