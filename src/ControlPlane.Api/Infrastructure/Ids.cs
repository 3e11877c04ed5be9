using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Api.Infrastructure;

/// <summary>Identifiers and secrets in the shapes Cloudflare clients expect.</summary>
public static class Ids
{
    /// <summary>A new object id: 32 lowercase hex characters, like Cloudflare's.</summary>
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>True when the value has the shape of an id; anything else is a 404 with code 7003.</summary>
    public static bool IsWellFormed(string? value) =>
        value is { Length: 32 } && value.All(char.IsAsciiHexDigitLower);

    /// <summary>
    /// A new secret: a recognisable prefix (so leaked secrets can be found by scanners)
    /// and 256 bits of randomness.
    /// </summary>
    public static string NewSecret(string prefix) =>
        prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
