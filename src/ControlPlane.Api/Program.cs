using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Api.Data;
using ControlPlane.Api.Features.Agents;
using ControlPlane.Api.Infrastructure;
using ControlPlane.Messaging;
using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Diagnostics.HealthChecks;

var builder = WebApplication.CreateBuilder(args);

builder.UseHttpsOnlyKestrel();

// Configuration is read lazily, inside the registrations, so hosts that add settings
// after Program starts (WebApplicationFactory in the tests) are honoured.
builder.Services.AddDbContext<ControlPlaneDbContext>((services, options) =>
    ControlPlaneDbContext.Configure(options, services.GetRequiredService<IConfiguration>().GetConnectionString("ControlPlane")));
builder.Services.AddSingleton(TimeProvider.System);

builder.Services.AddMassTransit(bus =>
{
    bus.SetKebabCaseEndpointNameFormatter();
    // Edge networks run closed; the library must not phone home.
    bus.DisableUsageTelemetry();
    bus.AddConsumer<AgentStatusReportedConsumer>();
    bus.ConfigureHealthCheckOptions(health =>
    {
        health.Name = "rabbitmq";
        health.MinimalFailureStatus = HealthStatus.Unhealthy;
        health.Tags.Add(HealthEndpoints.ReadyTag);
    });
    bus.UsingRabbitMq((context, rabbit) =>
    {
        rabbit.UseConnectionString(context.GetRequiredService<IConfiguration>().GetConnectionString("RabbitMq"));
        rabbit.ConfigureEndpoints(context);
    });
});

builder.Services.AddHealthChecks()
    .AddNpgSql(services => services.GetRequiredService<IConfiguration>().GetConnectionString("ControlPlane") ?? "", name: "postgres", tags: [HealthEndpoints.ReadyTag], timeout: TimeSpan.FromSeconds(5));

builder.Services.Configure<OperatorOptions>(builder.Configuration.GetSection(OperatorOptions.Section));
builder.Services.AddAuthentication()
    .AddScheme<AuthenticationSchemeOptions, OperatorAuthenticationHandler>(OperatorAuthenticationHandler.SchemeName, null);
builder.Services.AddAuthorizationBuilder()
    .AddPolicy(OperatorAuthenticationHandler.SchemeName, policy => policy
        .AddAuthenticationSchemes(OperatorAuthenticationHandler.SchemeName)
        .RequireRole("operator"));

builder.Services.ConfigureHttpJsonOptions(json =>
{
    json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
    json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
});
builder.Services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
{
    document.Info.Title = "Edge control plane API";
    document.Info.Description = "Customer API (Cloudflare v4 compatible), operator API and edge API. HTTPS only.";
    // The committed document in openapi/ must not depend on where the API happens to listen.
    document.Servers = [];
    return Task.CompletedTask;
}));

var app = builder.Build();

app.UseEnvelopeErrors();
app.UseHsts();
app.UseAuthentication();
app.UseAuthorization();

app.MapOpenApi();
app.UseSwaggerUI(ui =>
{
    ui.SwaggerEndpoint("/openapi/v1.json", "Control plane API v1");
    ui.DocumentTitle = "Edge control plane API";
});

app.MapHealthEndpoints();
app.MapAgentsApi();

app.Run();

/// <summary>The API's entry point, public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
