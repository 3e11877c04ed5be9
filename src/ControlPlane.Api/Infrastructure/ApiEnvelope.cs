namespace ControlPlane.Api.Infrastructure;

/// <summary>One error or message item of the Cloudflare v4 envelope: always an object, never a string.</summary>
public sealed record ApiMessage(int Code, string Message);

/// <summary>
/// The Cloudflare v4 response envelope (see shared COMPAT.md). Every body the API
/// writes, success or failure, has this shape.
/// </summary>
public sealed record ApiEnvelope<T>(
    bool Success,
    IReadOnlyList<ApiMessage> Errors,
    IReadOnlyList<ApiMessage> Messages,
    T? Result);

public static class ApiEnvelope
{
    public static ApiEnvelope<T> Ok<T>(T result) => new(true, [], [], result);

    public static ApiEnvelope<object> Failure(int code, string message) =>
        new(false, [new ApiMessage(code, message)], [], null);

    public static ApiEnvelope<object> Failure(IReadOnlyList<ApiMessage> errors) =>
        new(false, errors, [], null);
}

/// <summary>
/// Error codes. Where Cloudflare has a code for the case we use theirs, so clients
/// that branch on codes keep working; our own codes live in 1200–1299. The full
/// table is in docs/api.md.
/// </summary>
public static class ErrorCodes
{
    public const int InvalidApiToken = 1000;
    public const int UnknownZone = 1001;
    public const int UnknownObject = 1003;
    public const int InvalidField = 1004;
    public const int UnknownSetting = 1006;
    public const int InvalidSettingValue = 1007;
    public const int ZoneExists = 1061;
    public const int NotReady = 1200;
    public const int InternalError = 1201;
    public const int BadRequest = 1202;
    public const int PayloadTooLarge = 1203;
    public const int UnsupportedMediaType = 1204;
    public const int PlaintextRefused = 1205;
    public const int PoolExhausted = 1210;
    public const int PoolOverlap = 1211;
    public const int Conflict = 1212;
    public const int TrafficPreview = 1220;
    public const int MalformedAuthorizationHeader = 6003;
    public const int NoRoute = 7000;
    public const int MethodNotAllowed = 7001;
    public const int MalformedIdentifier = 7003;
    public const int MissingCredentials = 9106;

    /// <summary>A token used from an address its <c>condition.request_ip</c> does not allow (403).</summary>
    public const int TokenLocationRefused = 9109;
    public const int RateLimited = 971;
    public const int AuthenticationError = 10000;
}
