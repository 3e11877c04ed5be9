using System.Security.Cryptography;

namespace ControlPlane.Api.Infrastructure;

/// <summary>Reads <c>Authorization: Bearer …</c> the same way for every scheme.</summary>
public static class Bearer
{
    public const int MaxCredentialLength = 1024;

    public enum Outcome
    {
        Missing,
        Malformed,
        Present,
    }

    public static Outcome TryRead(HttpRequest request, out string token)
    {
        token = "";
        string? header = request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return Outcome.Missing;
        }

        // RFC 6750 allows one or more spaces after "Bearer"; the credential itself is printable
        // ASCII of a sane length (ours are about 50 characters), anything else is malformed.
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            || header[7..].Trim(' ') is not { Length: > 0 and <= MaxCredentialLength } value
            || !value.All(c => c is > ' ' and <= '~'))
        {
            return Outcome.Malformed;
        }

        token = value;
        return Outcome.Present;
    }

    /// <summary>True when <paramref name="token"/>'s SHA-256 is <paramref name="expectedSha256Hex"/> (64 hex digits; anything else never matches). Constant time.</summary>
    public static bool MatchesSha256(string token, string expectedSha256Hex) => HashMatches(Ids.Hash(token), expectedSha256Hex);

    /// <summary>True when <paramref name="sha256"/> (a token's SHA-256, 32 bytes) is <paramref name="expectedSha256Hex"/> (64 hex digits; anything else never matches). Constant time.</summary>
    public static bool HashMatches(byte[] sha256, string expectedSha256Hex) =>
        expectedSha256Hex.Length == 64
        && expectedSha256Hex.All(char.IsAsciiHexDigit)
        && CryptographicOperations.FixedTimeEquals(sha256, Convert.FromHexString(expectedSha256Hex));
}
