using System.Text.Json;
using ControlPlane.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ControlPlane.Api.Data;

/// <summary>
/// Typed <c>jsonb</c> columns in the wire form (<see cref="WireJson"/>). EF Core's own JSON
/// mapping (complex types <c>ToJson</c>) would name JSON properties by its conventions, not by
/// the contract's serializer, so a record would have one shape on the bus and another in the
/// table; a converter keeps one. Audit values, which have no fixed shape, are
/// <see cref="JsonDocument"/>, which Npgsql maps to <c>jsonb</c> itself.
/// </summary>
public static class JsonColumns
{
    /// <summary>Stores the property as <c>jsonb</c> in the wire form, compared by value.</summary>
    public static PropertyBuilder<T> HasWireJson<T>(this PropertyBuilder<T> property)
        where T : class? =>
        property
            .HasColumnType("jsonb")
            .HasConversion(
                value => JsonSerializer.Serialize(value, WireJson.Options),
                json => JsonSerializer.Deserialize<T>(json, WireJson.Options)!,
                new ValueComparer<T>(
                    (a, b) => JsonSerializer.Serialize(a, WireJson.Options) == JsonSerializer.Serialize(b, WireJson.Options),
                    value => JsonSerializer.Serialize(value, WireJson.Options).GetHashCode(StringComparison.Ordinal),
                    value => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value, WireJson.Options), WireJson.Options)!));
}
