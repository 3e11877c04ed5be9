using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace ControlPlane.Api.Infrastructure;

/// <summary>Where the API listens and which certificate it presents (section <c>Https</c>).</summary>
public sealed class HttpsOptions
{
    public const string Section = "Https";

    /// <summary>The address to bind; loopback by default.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; set; } = 9443;

    /// <summary>PEM file with the server certificate (and its chain).</summary>
    public string CertificatePath { get; set; } = "";

    /// <summary>PEM file with the certificate's private key.</summary>
    public string KeyPath { get; set; } = "";
}

/// <summary>
/// The API practises what the product sells: it has exactly one listener and that
/// listener speaks TLS. Binding explicitly here overrides <c>ASPNETCORE_URLS</c> and
/// <c>--urls</c>, and any <c>Kestrel:Endpoints</c> configuration is refused at start,
/// so no setting can quietly add a plaintext port.
/// </summary>
public static class HttpsOnly
{
    /// <summary>Request bodies above this are refused with 413; the API's bodies are small JSON.</summary>
    public const long MaxRequestBodyBytes = 64 * 1024;

    /// <summary>The request line, and the headers together, may each be this long before Kestrel refuses them bare.</summary>
    public const int MaxRequestHeadBytes = 128 * 1024;

    public static WebApplicationBuilder UseHttpsOnlyKestrel(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            if (context.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
            {
                throw new InvalidOperationException(
                    "Kestrel:Endpoints is not supported: the API listens on HTTPS only. Configure Https:Address, Https:Port, Https:CertificatePath and Https:KeyPath instead.");
            }

            var options = context.Configuration.GetSection(HttpsOptions.Section).Get<HttpsOptions>() ?? new HttpsOptions();
            var certificate = LoadCertificate(options);
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Parse(options.Address), options.Port, listen => listen.UseHttps(TlsOptions(certificate)));
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            // Kestrel answers a request line or headers over its limits itself, with a bare 414/431
            // and no envelope. Its defaults (8 KiB, 32 KiB) are raised so that an overlong query
            // value or credential reaches the API, which refuses it in the envelope
            // (RequestInputGuard, Bearer); only beyond these does Kestrel's bare answer remain.
            kestrel.Limits.MaxRequestLineSize = MaxRequestHeadBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = MaxRequestHeadBytes;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = MaxRequestHeadBytes;

            // The one exception: a plaintext port for a TLS-terminating proxy, and only
            // when the proxies are named; PlaintextGuard refuses everyone else.
            var plaintext = context.Configuration.GetSection(PlaintextOptions.Section).Get<PlaintextOptions>() ?? new PlaintextOptions();
            if (plaintext.Enabled)
            {
                if (plaintext.TrustedProxies.Length == 0)
                {
                    throw new InvalidOperationException("Plaintext:Enabled needs Plaintext:TrustedProxies: a plaintext listener is only for named TLS-terminating proxies.");
                }

                kestrel.Listen(IPAddress.Parse(plaintext.Address), plaintext.Port);
            }
        });
        return builder;
    }

    /// <summary>
    /// The cipher suites the listener offers: AEAD only. TLS 1.3's three, and under TLS 1.2 ECDHE
    /// (forward secrecy) with AES-GCM or ChaCha20-Poly1305, for ECDSA and RSA certificates; no CBC,
    /// no static RSA key exchange. Mozilla's "intermediate" profile, less its DHE suites.
    /// </summary>
    public static readonly TlsCipherSuite[] CipherSuites =
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    private static HttpsConnectionAdapterOptions TlsOptions(X509Certificate2 certificate)
    {
        var tls = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        };
        // CipherSuitesPolicy is honoured on Linux (OpenSSL) and macOS only; elsewhere the OS policy applies.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            var policy = new CipherSuitesPolicy(CipherSuites);
            tls.OnAuthenticate = (_, ssl) => ssl.CipherSuitesPolicy = policy;
        }

        return tls;
    }

    private static X509Certificate2 LoadCertificate(HttpsOptions options)
    {
        if (!File.Exists(options.CertificatePath) || !File.Exists(options.KeyPath))
        {
            throw new InvalidOperationException(
                $"The API needs a TLS certificate: Https:CertificatePath ('{options.CertificatePath}') and Https:KeyPath ('{options.KeyPath}') must name existing PEM files. scripts/up creates a development pair.");
        }

        return X509Certificate2.CreateFromPemFile(options.CertificatePath, options.KeyPath);
    }
}
