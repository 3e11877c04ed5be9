using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// Turns the framework's request-reading failures (a body that is not JSON, a field outside a
/// type's schema, a query value of the wrong type) into Cloudflare's error codes, with messages
/// in the wire's names (<c>per_page</c>, <c>$.expires_on</c>). No message names a .NET type:
/// clients show these to people.
/// </summary>
public static partial class RequestErrors
{
    /// <summary>Malformed JSON in a request body (400), as Cloudflare numbers it.</summary>
    public const int MalformedJson = 6007;

    /// <summary>A body sent with a Content-Type other than JSON (415), as Cloudflare numbers it.</summary>
    public const int NotJsonContentType = 9207;

    /// <summary>
    /// The status, code and message for <paramref name="error"/> when it says the request could not
    /// be read (a <see cref="BadHttpRequestException"/> or a <see cref="JsonException"/>); null for
    /// anything else. The one mapping the error envelope and the failed-write audit both use.
    /// </summary>
    public static (int Status, int Code, string Message)? Describe(Endpoint? endpoint, Exception error) => error switch
    {
        BadHttpRequestException bad => Describe(endpoint, bad),
        JsonException json => Describe(json, endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType),
        _ => null,
    };

    /// <summary>The status, code and message for a request the framework could not read.</summary>
    /// <param name="endpoint">The endpoint that failed to read the request (the exception handler clears the context's).</param>
    /// <param name="error">What the framework threw.</param>
    public static (int Status, int Code, string Message) Describe(Endpoint? endpoint, BadHttpRequestException error)
    {
        if (error.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (error.StatusCode, ErrorCodes.PayloadTooLarge, "Request body too large.");
        }

        if (error.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return (StatusCodes.Status415UnsupportedMediaType, NotJsonContentType, "Content-type must be application/json.");
        }

        if (error.InnerException is JsonException json)
        {
            return Describe(json, endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType);
        }

        if (FailedToBind().Match(error.Message) is { Success: true } bind)
        {
            var name = WireName(endpoint, bind.Groups["name"].Value);
            return (StatusCodes.Status400BadRequest, ErrorCodes.InvalidField, $"{name} must be {Expected(bind.Groups["type"].Value)}.");
        }

        if (Required().Match(error.Message) is { Success: true } required)
        {
            return required.Groups["source"].Value == "body"
                ? (StatusCodes.Status400BadRequest, ErrorCodes.InvalidField, "A JSON request body is required.")
                : (StatusCodes.Status400BadRequest, ErrorCodes.InvalidField, $"{WireName(endpoint, required.Groups["name"].Value)} is required.");
        }

        if (error.Message.Contains("no body was provided", StringComparison.Ordinal))
        {
            return (StatusCodes.Status400BadRequest, ErrorCodes.InvalidField, "A JSON request body is required.");
        }

        return (StatusCodes.Status400BadRequest, ErrorCodes.BadRequest, "The request could not be read.");
    }

    /// <summary>
    /// A field outside the schema and a value of the wrong type are 1004 with the JSON path;
    /// anything else (text that is not JSON at all) is 6007.
    /// </summary>
    /// <param name="error">What System.Text.Json threw.</param>
    /// <param name="bodyType">The type the body was read into, to name what the value at the path must be.</param>
    public static (int Status, int Code, string Message) Describe(JsonException error, Type? bodyType)
    {
        var path = string.IsNullOrEmpty(error.Path) ? "$" : error.Path;
        if (UnmappedMember().Match(error.Message) is { Success: true } unmapped)
        {
            return (StatusCodes.Status400BadRequest, ErrorCodes.InvalidField,
                $"Unknown field '{unmapped.Groups["name"].Value}' at {path}: it is not part of this object's schema.");
        }

        if (NotConvertible().IsMatch(error.Message))
        {
            var expected = TypeAt(bodyType, path) is { } type ? Expected(type) : "of the documented type";
            return (StatusCodes.Status400BadRequest, ErrorCodes.InvalidField, $"The value at {path} must be {expected}.");
        }

        return (StatusCodes.Status400BadRequest, MalformedJson, "Malformed JSON in request body");
    }

    /// <summary>What a value of the CLR type looks like on the wire, for a person to read.</summary>
    private static string Expected(string type) => type switch
    {
        _ when type.Contains("DateTime", StringComparison.Ordinal) => "an RFC 3339 date and time, such as 2026-01-31T00:00:00Z",
        _ when Regex.IsMatch(type, @"\b(int|Int32)\b") => "an integer from -2147483648 to 2147483647",
        _ when Regex.IsMatch(type, @"\b(long|short|Int64|Int16)\b") => "an integer",
        _ when Regex.IsMatch(type, @"\b(double|decimal|float|Double|Decimal|Single)\b") => "a number",
        _ when Regex.IsMatch(type, @"\b(bool|Boolean)\b") => "true or false",
        _ when Regex.IsMatch(type, @"\b(string|String)\b") => "a string",
        _ => "of the documented type",
    };

    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string) || type.IsPrimitive || type == typeof(decimal) || type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return Expected(type.Name);
        }

        return ElementType(type) is not null ? "an array" : type == typeof(JsonElement) ? "a JSON value" : "an object";
    }

    /// <summary>The CLR type of the value at a JSON path such as <c>$.policies[0].resources</c>, or null.</summary>
    private static Type? TypeAt(Type? root, string path)
    {
        var type = root;
        foreach (Match segment in PathSegment().Matches(path))
        {
            if (type is null)
            {
                return null;
            }

            type = Nullable.GetUnderlyingType(type) ?? type;
            if (segment.Groups["index"].Success)
            {
                type = ElementType(type);
                continue;
            }

            var name = segment.Groups["name"].Value;
            type = type.GetProperties().FirstOrDefault(p =>
                (p.GetCustomAttribute<System.Text.Json.Serialization.JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name)) == name)?.PropertyType;
        }

        return type;
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0]
        : null;

    /// <summary>
    /// The name a parameter has on the wire: the <c>Name</c> of its <c>[FromQuery]</c>,
    /// <c>[FromRoute]</c> or <c>[FromHeader]</c>, found on the endpoint's handler or inside its
    /// <c>[AsParameters]</c> record; the CLR name in snake case when there is none.
    /// </summary>
    private static string WireName(Endpoint? endpoint, string clrName)
    {
        var handler = endpoint?.Metadata.GetMetadata<MethodInfo>();
        var candidates = handler?.GetParameters().SelectMany(p =>
            p.GetCustomAttribute<AsParametersAttribute>() is null
                ? [p]
                : p.ParameterType.GetConstructors().SelectMany(c => c.GetParameters())) ?? [];
        var parameter = candidates.FirstOrDefault(p => p.Name == clrName);
        var named = parameter?.GetCustomAttributes().OfType<IModelNameProvider>().FirstOrDefault(a => !string.IsNullOrEmpty(a.Name));
        return named?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(clrName);
    }

    [GeneratedRegex("""^Failed to bind parameter "(?<type>.+) (?<name>\w+)" from "(?<value>.*)"\.$""", RegexOptions.Singleline)]
    private static partial Regex FailedToBind();

    [GeneratedRegex("""^Required parameter "(?<type>.+) (?<name>\w+)" was not provided from (?<source>[\w ]+?)( string)?\.$""")]
    private static partial Regex Required();

    [GeneratedRegex("""^The JSON property '(?<name>.*)' could not be mapped""", RegexOptions.Singleline)]
    private static partial Regex UnmappedMember();

    [GeneratedRegex("""^The JSON value could not be converted to """)]
    private static partial Regex NotConvertible();

    [GeneratedRegex("""\.(?<name>[A-Za-z_][A-Za-z0-9_.-]*?)(?=\.|\[|$)|\[(?<index>\d+)\]""")]
    private static partial Regex PathSegment();
}
