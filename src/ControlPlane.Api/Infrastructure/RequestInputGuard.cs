using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// One gate for the text of every request, before any binder or handler reads it. No query
/// parameter (name or value), route value, form field (name or value: a dashboard post), JSON
/// string or JSON property name may hold a
/// control character (U+0000–U+001F, U+007F–U+009F: Postgres refuses NUL in text, and none
/// has a use in this API) or invalid Unicode (a lone UTF-16 surrogate, invalid UTF-8:
/// System.Text.Json throws when such a string is read or written again, e.g. into an audit
/// entry); a query value holds at most <see cref="MaxQueryValueLength"/> characters; a JSON
/// array holds no <c>null</c> element. Anything else is 400 with code 1004 naming the
/// parameter or field, never the bad text itself. It runs after authentication, so a refused
/// write by a known caller is audited like any other failed write.
/// </summary>
public sealed class RequestInputGuard(RequestDelegate next)
{
    public const int MaxQueryValueLength = 1024;

    private const int MaxNameInMessage = 64;

    public async Task InvokeAsync(HttpContext context)
    {
        var problem = QueryProblem(context.Request.QueryString)
            ?? RouteProblem(context.Request.RouteValues)
            ?? await BodyProblemAsync(context.Request, context.RequestAborted)
            ?? await FormProblemAsync(context.Request, context.RequestAborted);
        if (problem is not null)
        {
            await EnvelopeErrors.WriteFailureAsync(context, StatusCodes.Status400BadRequest, ErrorCodes.InvalidField, problem);
            return;
        }

        await next(context);
    }

    /// <summary>
    /// Why a decoded string is refused (control character, lone surrogate), or null. With
    /// <paramref name="allowLineBreaks"/>, CR, LF and tab pass (a textarea's value).
    /// </summary>
    public static string? CharacterProblem(string value, bool allowLineBreaks = false)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (allowLineBreaks && c is '\r' or '\n' or '\t')
            {
                continue;
            }

            if (char.IsControl(c))
            {
                return c == '\0' ? "contains a NUL character" : $"contains the control character U+{(int)c:X4}";
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return "is not valid Unicode (a lone UTF-16 surrogate)";
            }
        }

        return null;
    }

    /// <summary>
    /// Reads the raw query string, not ASP.NET's decoded view of it: that one turns invalid
    /// UTF-8 into U+FFFD silently, and the client should hear that it sent something invalid.
    /// </summary>
    private static string? QueryProblem(QueryString query)
    {
        if (!query.HasValue || query.Value!.Length <= 1)
        {
            return null;
        }

        foreach (var pair in query.Value[1..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var rawName = equals < 0 ? pair : pair[..equals];
            var rawValue = equals < 0 ? "" : pair[(equals + 1)..];
            if (Decode(rawName) is not { } name || CharacterProblem(name) is not null)
            {
                return "A query parameter name is not valid: it must be UTF-8 text without control characters.";
            }

            var shown = Shown(name);
            if (Decode(rawValue) is not { } value)
            {
                return $"Query parameter '{shown}' is not valid UTF-8.";
            }

            if (CharacterProblem(value) is { } problem)
            {
                return $"Query parameter '{shown}' {problem}.";
            }

            if (value.Length > MaxQueryValueLength)
            {
                return $"Query parameter '{shown}' is longer than {MaxQueryValueLength} characters.";
            }
        }

        return null;
    }

    /// <summary>Form-style decoding ('+' is a space, %XX a byte) by the platform, strict: invalid UTF-8 is null.</summary>
    private static string? Decode(string raw)
    {
        if (!raw.Contains('%', StringComparison.Ordinal) && !raw.Contains('+', StringComparison.Ordinal))
        {
            return raw;
        }

        // The request line is ASCII (Kestrel refuses anything else), so a char is a byte.
        var encoded = Encoding.ASCII.GetBytes(raw);
        var decoded = System.Net.WebUtility.UrlDecodeToBytes(encoded, 0, encoded.Length);
        return Utf8.IsValid(decoded) ? Encoding.UTF8.GetString(decoded) : null;
    }

    private static string? RouteProblem(RouteValueDictionary values)
    {
        foreach (var (key, value) in values)
        {
            if (value is string text && CharacterProblem(text) is { } problem)
            {
                return $"Path segment '{key}' {problem}.";
            }
        }

        return null;
    }

    /// <summary>
    /// Scans a JSON body (kept in memory: bodies are at most <see cref="HttpsOnly.MaxRequestBodyBytes"/>,
    /// larger ones fail the read with 413 as before) and rewinds it for the binder. Malformed JSON is
    /// left to the binder, which answers it as before.
    /// </summary>
    /// <summary>
    /// The dashboard's form posts (<c>application/x-www-form-urlencoded</c>, <c>multipart/form-data</c>):
    /// the same rule for every field name and value, except that a value may hold line breaks and
    /// tabs, as a textarea sends them (the IP lists of a token's condition). A form that cannot be
    /// read at all is refused too.
    /// </summary>
    private static async Task<string?> FormProblemAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // A form whose antiforgery token failed is not read here (ASP.NET refuses to read it): the
        // endpoint refuses the post with 400 itself.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Antiforgery.IAntiforgeryValidationFeature>() is { IsValid: false }
            || !request.HasFormContentType)
        {
            return null;
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            return "The form body cannot be read: it must be a valid form encoding within the size limit.";
        }

        foreach (var (name, values) in form)
        {
            if (CharacterProblem(name) is not null)
            {
                return "A form field name is not valid: it must be text without control characters.";
            }

            foreach (var value in values)
            {
                if (value is not null && CharacterProblem(value, allowLineBreaks: true) is { } problem)
                {
                    return $"Form field '{Shown(name)}' {problem}.";
                }
            }
        }

        return null;
    }

    private static async Task<string?> BodyProblemAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType() || request.ContentLength == 0)
        {
            return null;
        }

        request.EnableBuffering(bufferThreshold: (int)HttpsOnly.MaxRequestBodyBytes + 1);
        using var copy = new MemoryStream();
        await request.Body.CopyToAsync(copy, cancellationToken);
        request.Body.Position = 0;
        return copy.Length == 0 ? null : JsonProblem(copy.GetBuffer().AsSpan(0, (int)copy.Length));
    }

    private sealed class Frame(bool isArray, string path)
    {
        public bool IsArray { get; } = isArray;

        public string Path { get; } = path;

        public int Index { get; set; } = -1;

        public string Property { get; set; } = "";
    }

    /// <summary>The first problem in a JSON document, located by its path (<c>policies[0].resources</c>), or null.</summary>
    public static string? JsonProblem(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        var frames = new Stack<Frame>();
        try
        {
            while (reader.Read())
            {
                var top = frames.Count > 0 ? frames.Peek() : null;
                if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    frames.Pop();
                    continue;
                }

                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    var container = top!.Path.Length == 0 ? "the body" : $"'{top.Path}'";
                    if (StringProblem(ref reader, out var name) is { } nameProblem)
                    {
                        return $"A property name in {container} {nameProblem}.";
                    }

                    top.Property = Shown(name);
                    continue;
                }

                if (top?.IsArray == true)
                {
                    top.Index++;
                }

                var where = top is null ? "" : top.IsArray ? $"{top.Path}[{top.Index}]" : top.Path.Length == 0 ? top.Property : $"{top.Path}.{top.Property}";
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        frames.Push(new Frame(isArray: false, where));
                        break;
                    case JsonTokenType.StartArray:
                        frames.Push(new Frame(isArray: true, where));
                        break;
                    case JsonTokenType.String when StringProblem(ref reader, out _) is { } problem:
                        return $"{(where.Length == 0 ? "The body" : $"'{where}'")} {problem}.";
                    case JsonTokenType.Null when top?.IsArray == true:
                        return $"'{where}' is null: arrays must not hold null elements.";
                    default:
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the binder answers that, as it always has.
        }

        return null;
    }

    private static string? StringProblem(ref Utf8JsonReader reader, out string value)
    {
        try
        {
            value = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses an escaped lone surrogate (\ud800) or invalid UTF-8 here.
            value = "";
            return "is not valid Unicode (a lone UTF-16 surrogate or invalid UTF-8)";
        }

        return CharacterProblem(value);
    }

    /// <summary>A name as a message shows it: shortened, never splitting a surrogate pair.</summary>
    private static string Shown(string name) =>
        name.Length <= MaxNameInMessage ? name
        : name[..(char.IsHighSurrogate(name[MaxNameInMessage - 1]) ? MaxNameInMessage - 1 : MaxNameInMessage)] + "…";
}
