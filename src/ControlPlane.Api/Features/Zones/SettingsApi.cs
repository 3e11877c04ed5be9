using System.Text.Json;
using ControlPlane.Api.Data;
using ControlPlane.Api.Features.Analytics;
using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ControlPlane.Api.Features.Zones;

/// <summary>
/// Zone settings. There is one: <c>disable_http_ports</c>, whose "on" makes every data
/// center refuse TCP to the zone's plaintext HTTP ports.
/// </summary>
public static class SettingsApi
{
    public static RouteGroupBuilder MapSettingsApi(this RouteGroupBuilder client)
    {
        var settings = client.MapGroup("/zones/{zone_id}/settings").WithTags("Zone settings");
        settings.MapGet("/", ListSettings).WithName("ListZoneSettings");
        settings.MapPatch("/", PatchSettings).WithName("PatchZoneSettings").Audited("zone.settings.update", "zone_setting", "zone_id");
        settings.MapGet("/{setting_id}", GetSetting).WithName("GetZoneSetting");
        settings.MapPatch("/{setting_id}", PatchSetting).WithName("PatchZoneSetting").Audited("zone.settings.update", "zone_setting", "zone_id");
        return client;
    }

    public static async Task<Results<Ok<ApiEnvelope<List<SettingView>>>, JsonHttpResult<ApiEnvelope<object>>>> ListSettings(
        [FromRoute(Name = "zone_id")] string zoneId, ControlPlaneDbContext db, Caller caller, CancellationToken cancellationToken)
    {
        var (zone, error) = await ZoneAccess.FindAsync(db, caller, zoneId, Permissions.ZoneSettingsRead, cancellationToken);
        return error is not null ? error : ApiResults.Ok(new List<SettingView> { SettingView.From(zone!) });
    }

    public static async Task<Results<Ok<ApiEnvelope<SettingView>>, JsonHttpResult<ApiEnvelope<object>>>> GetSetting(
        [FromRoute(Name = "zone_id")] string zoneId, [FromRoute(Name = "setting_id")] string settingId,
        ControlPlaneDbContext db, Caller caller, TimeProvider time, IOptions<StatusOptions> status, CancellationToken cancellationToken)
    {
        var (zone, error) = await ZoneAccess.FindAsync(db, caller, zoneId, Permissions.ZoneSettingsRead, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        if (settingId != SettingView.DisableHttpPorts)
        {
            return ApiResults.NotFound(ErrorCodes.UnknownSetting, $"Unknown setting: {settingId}");
        }

        var rollout = await Rollout.ComputeAsync(db, zone!, time, status.Value, cancellationToken);
        var traffic = await AnalyticsApi.Last24HoursAsync(db, zone!.Id, time.GetUtcNow().UtcDateTime, cancellationToken);
        return ApiResults.Ok(SettingView.From(zone) with { Rollout = rollout.Summary, PlaintextConnections24h = traffic });
    }

    /// <summary>
    /// Sets disable_http_ports. Turning it on for a zone that saw plaintext traffic in the
    /// last 24 hours adds a message saying how many connections will now be refused;
    /// <c>dry_run=true</c> returns that preview and changes nothing (no change-log row, no
    /// audit entry: a preview is a read).
    /// </summary>
    public static async Task<Results<Ok<ApiEnvelope<SettingView>>, JsonHttpResult<ApiEnvelope<object>>>> PatchSetting(
        [FromRoute(Name = "zone_id")] string zoneId, [FromRoute(Name = "setting_id")] string settingId, [FromQuery(Name = "dry_run")] bool? dryRun,
        SettingValueRequest request, ControlPlaneDbContext db, Caller caller, Audit audit, UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        if (settingId != SettingView.DisableHttpPorts)
        {
            return ApiResults.NotFound(ErrorCodes.UnknownSetting, $"Unknown setting: {settingId}");
        }

        if (ParseValue(request.Value) is not { } closed)
        {
            return InvalidValue();
        }

        // A preview only reads, so it takes no lock and opens no transaction.
        var preview = dryRun ?? false;
        var (zone, error) = preview
            ? await ZoneAccess.FindAsync(db, caller, zoneId, Permissions.ZoneSettingsWrite, cancellationToken)
            : await ZoneAccess.FindForWriteAsync(db, work, caller, zoneId, Permissions.ZoneSettingsWrite, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var messages = new List<ApiMessage>();
        if (closed && !zone!.HttpPortsClosed)
        {
            var recent = await AnalyticsApi.Last24HoursAsync(db, zone.Id, time.GetUtcNow().UtcDateTime, cancellationToken);
            if (recent > 0)
            {
                messages.Add(new ApiMessage(ErrorCodes.TrafficPreview, preview
                    ? $"Dry run: {recent} plaintext HTTP connection attempts in the last 24 hours would be refused."
                    : $"{recent} plaintext HTTP connection attempts in the last 24 hours will now be refused."));
            }
        }

        if (preview)
        {
            return ApiResults.Ok(SettingView.From(zone!) with { Value = closed ? "on" : "off" }, [.. messages]);
        }

        Apply(zone!, closed, audit, time);
        await work.CommitAsync(cancellationToken);
        return ApiResults.Ok(SettingView.From(zone!), [.. messages]);
    }

    /// <summary>The legacy bulk edit: every item is checked before anything is written.</summary>
    public static async Task<Results<Ok<ApiEnvelope<List<SettingView>>>, JsonHttpResult<ApiEnvelope<object>>>> PatchSettings(
        [FromRoute(Name = "zone_id")] string zoneId, BulkSettingsRequest request,
        ControlPlaneDbContext db, Caller caller, Audit audit, UnitOfWork work, TimeProvider time, CancellationToken cancellationToken)
    {
        if (request.Items is not { Count: > 0 } items)
        {
            return ApiResults.BadRequest(ErrorCodes.InvalidField, "items is required and must not be empty");
        }

        bool? closed = null;
        foreach (var item in items)
        {
            if (item?.Id != SettingView.DisableHttpPorts)
            {
                return ApiResults.BadRequest(ErrorCodes.UnknownSetting, $"Unknown setting: {item?.Id}");
            }

            closed = ParseValue(item.Value);
            if (closed is null)
            {
                return InvalidValue();
            }
        }

        var (zone, error) = await ZoneAccess.FindForWriteAsync(db, work, caller, zoneId, Permissions.ZoneSettingsWrite, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        Apply(zone!, closed!.Value, audit, time);
        await work.CommitAsync(cancellationToken);
        return ApiResults.Ok(new List<SettingView> { SettingView.From(zone!) });
    }

    /// <summary>
    /// Sets the value and audits it. Only a real change reaches the edges: the unit of work
    /// sees <c>HttpPortsClosed</c> modified and appends the change-log row; a repeated value
    /// is audited and nothing more.
    /// </summary>
    private static void Apply(Zone zone, bool closed, Audit audit, TimeProvider time)
    {
        var before = SettingView.From(zone);
        if (zone.HttpPortsClosed != closed)
        {
            zone.HttpPortsClosed = closed;
            zone.SettingModifiedOn = time.GetUtcNow().UtcDateTime;
        }

        audit.Record("zone.settings.update", "zone_setting", zone.Id, zone.AccountId, before, SettingView.From(zone), zone.Name,
            new { setting = SettingView.DisableHttpPorts });
    }

    private static bool? ParseValue(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.String } v ? v.GetString() switch { "on" => true, "off" => false, _ => null } : null;

    private static JsonHttpResult<ApiEnvelope<object>> InvalidValue() =>
        ApiResults.BadRequest(ErrorCodes.InvalidSettingValue, "Invalid value for zone setting disable_http_ports: it must be \"on\" or \"off\"");
}

/// <summary><c>{"value": "on" | "off"}</c>. The value is read as raw JSON so a wrong type is 1007, not a parse error.</summary>
public sealed record SettingValueRequest(JsonElement? Value);

public sealed record SettingItem(string? Id, JsonElement? Value);

/// <summary><c>{"items": [{"id", "value"}]}</c>; unknown fields in items are ignored.</summary>
public sealed record BulkSettingsRequest(List<SettingItem?>? Items);
