using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ControlPlane.Testing;

/// <summary>
/// A throw-away CA (certificate and key) and a server certificate for 127.0.0.1/localhost
/// written as PEM files, the same shape scripts/up makes with openssl, plus a client
/// handler that trusts exactly that CA.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly X509Certificate2 authority;

    public TestCertificates()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("cp-certs-").FullName;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Control plane test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        authority = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddIpAddress(System.Net.IPAddress.IPv6Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = serverRequest.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), [1, 2, 3, 4]);

        AuthorityPath = Path.Combine(Directory, "ca.crt");
        File.WriteAllText(AuthorityPath, authority.ExportCertificatePem());
        AuthorityKeyPath = Path.Combine(Directory, "ca.key");
        File.WriteAllText(AuthorityKeyPath, caKey.ExportPkcs8PrivateKeyPem());
        CertificatePath = Path.Combine(Directory, "server.crt");
        KeyPath = Path.Combine(Directory, "server.key");
        File.WriteAllText(CertificatePath, server.ExportCertificatePem());
        File.WriteAllText(KeyPath, serverKey.ExportPkcs8PrivateKeyPem());
    }

    public string Directory { get; }

    public string CertificatePath { get; }

    /// <summary>The CA as PEM, for agents that must trust the test API.</summary>
    public string AuthorityPath { get; }

    public string KeyPath { get; }

    /// <summary>The CA's private key as PKCS#8 PEM, for the edge lab's Caddy, which issues certificates from this CA.</summary>
    public string AuthorityKeyPath { get; }

    /// <summary>An HTTP handler that accepts the test server's certificate and nothing else.</summary>
    public SocketsHttpHandler CreateTrustingHandler() => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is null)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(authority);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            },
        },
    };

    public void Dispose()
    {
        authority.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
