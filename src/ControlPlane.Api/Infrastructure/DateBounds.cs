using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Metadata;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Every date a request carries, in its query or its JSON body, must lie between
/// <see cref="Min"/> and <see cref="Max"/>; anything else (0001-01-01, 9999-12-31) is 400 with
/// code 1004 naming the parameter or field, before the handler runs. Handlers then do date
/// arithmetic (a default range, flooring to a bucket) without overflowing, and Postgres never
/// sees a date no edge network has a use for. Put on each route group once; the handler's
/// bound parameters (query values, <c>[AsParameters]</c> records, the body) are found when the
/// endpoint is built, so an endpoint without dates pays nothing.
/// </summary>
public static class DateBounds
{
    public static readonly DateTime Min = new(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Exclusive: the last accepted instant is 2999-12-31T23:59:59.9999999Z.</summary>
    public static readonly DateTime Max = new(3000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private const int MaxDepth = 8;

    private static readonly ConcurrentDictionary<Type, (PropertyInfo Property, string Name)[]> Properties = new();

    public static TBuilder WithDateBounds<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilterFactory((factory, next) =>
        {
            var services = factory.ApplicationServices.GetService<IServiceProviderIsService>();
            var checkedArguments = factory.MethodInfo.GetParameters()
                .Select((parameter, index) => (Index: index, Name: WireName(parameter), parameter.ParameterType))
                .Where(p => MayHoldDates(p.ParameterType, 0) && services?.IsService(p.ParameterType) != true)
                .ToArray();
            if (checkedArguments.Length == 0)
            {
                return next;
            }

            return async context =>
            {
                foreach (var (index, name, _) in checkedArguments)
                {
                    if (Problem(context.Arguments[index], name, 0) is { } problem)
                    {
                        return Results.Json(ApiEnvelope.Failure(ErrorCodes.InvalidField, problem), statusCode: StatusCodes.Status400BadRequest);
                    }
                }

                return await next(context);
            };
        });

    /// <summary>Why the value (or a date inside it) is out of bounds, or null.</summary>
    private static string? Problem(object? value, string name, int depth)
    {
        switch (value)
        {
            case null or string:
                return null;
            case DateTime date:
                return InBounds(date.Kind == DateTimeKind.Local ? date.ToUniversalTime() : date) ? null : Message(name);
            case DateTimeOffset offset:
                return InBounds(offset.UtcDateTime) ? null : Message(name);
            case IEnumerable items when depth < MaxDepth:
                var index = 0;
                foreach (var item in items)
                {
                    if (Problem(item, $"{name}[{index++}]", depth + 1) is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
        }

        if (depth >= MaxDepth || !IsOwnType(value.GetType()))
        {
            return null;
        }

        foreach (var (property, propertyName) in PropertiesOf(value.GetType()))
        {
            // A body or an [AsParameters] record has no name of its own: its members are named alone.
            var path = name.Length == 0 ? propertyName : $"{name}.{propertyName}";
            if (Problem(property.GetValue(value), path, depth + 1) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static bool InBounds(DateTime utc) => utc >= Min && utc < Max;

    private static string Message(string name) =>
        $"{name} must be a date from {Min:yyyy-MM-ddTHH:mm:ssZ} to 2999-12-31T23:59:59Z (RFC 3339, UTC).";

    /// <summary>Dates live in the API's own request records, in lists of them, or are parameters themselves.</summary>
    private static bool MayHoldDates(Type type, int depth)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return true;
        }

        if (depth >= MaxDepth || type == typeof(string))
        {
            return false;
        }

        if (type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type))
        {
            return type.GetGenericArguments().Any(t => MayHoldDates(t, depth + 1));
        }

        return IsOwnType(type) && PropertiesOf(type).Any(p => MayHoldDates(p.Property.PropertyType, depth + 1));
    }

    private static bool IsOwnType(Type type) => type.Assembly == typeof(DateBounds).Assembly && !type.IsEnum;

    /// <summary>Public properties with the names a client uses: the query name of a bound record's member, else the JSON name.</summary>
    private static (PropertyInfo Property, string Name)[] PropertiesOf(Type type) => Properties.GetOrAdd(type, t =>
    {
        var constructorParameters = t.GetConstructors().SelectMany(c => c.GetParameters()).ToList();
        return t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0)
            .Select(p =>
            {
                var queryName = constructorParameters.FirstOrDefault(c => c.Name == p.Name)?.GetCustomAttributes().OfType<IFromQueryMetadata>().FirstOrDefault()?.Name;
                var name = queryName ?? p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name);
                return (p, name);
            })
            .ToArray();
    });

    /// <summary>The parameter's name on the wire: its query name when it has one; a body has none.</summary>
    private static string WireName(ParameterInfo parameter) =>
        parameter.GetCustomAttributes().OfType<IFromQueryMetadata>().FirstOrDefault() is { } query ? query.Name ?? parameter.Name! : "";
}
