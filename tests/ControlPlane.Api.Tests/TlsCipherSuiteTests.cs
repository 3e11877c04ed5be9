using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace ControlPlane.Api.Tests;

/// <summary>The listener offers AEAD cipher suites only: TLS 1.2 CBC suites fail the handshake.</summary>
[Collection("api")]
public sealed class TlsCipherSuiteTests(ApiFixture fixture)
{
    [Theory]
    [InlineData("ECDHE-ECDSA-AES128-SHA256", false)]
    [InlineData("ECDHE-ECDSA-AES256-SHA384", false)]
    [InlineData("ECDHE-ECDSA-AES128-SHA", false)]
    [InlineData("ECDHE-ECDSA-AES128-GCM-SHA256", true)]
    [InlineData("ECDHE-ECDSA-AES256-GCM-SHA384", true)]
    [InlineData("ECDHE-ECDSA-CHACHA20-POLY1305", true)]
    public async Task OpensslTls12Client_OfferingOneSuite_IsAcceptedOnlyForAead(string cipher, bool accepted)
    {
        var address = fixture.Factory.BaseAddress;
        var start = new ProcessStartInfo("openssl")
        {
            ArgumentList = { "s_client", "-connect", $"{address.Host}:{address.Port}", "-servername", "localhost", "-tls1_2", "-cipher", cipher, "-CAfile", fixture.Certificates.AuthorityPath },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var openssl = Process.Start(start)!;
        openssl.StandardInput.Close();
        var output = await openssl.StandardOutput.ReadToEndAsync() + await openssl.StandardError.ReadToEndAsync();
        await openssl.WaitForExitAsync();

        if (accepted)
        {
            Assert.True(openssl.ExitCode == 0, output);
            Assert.Contains($"Cipher is {cipher}", output, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(openssl.ExitCode != 0, output);
            Assert.Contains("handshake failure", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task SslStreamTls12Client_WithOnlyACbcSuite_FailsTheHandshake_AndWithAnAeadSuiteSucceeds()
    {
        Assert.Equal("fails", await HandshakeAsync(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256));
        Assert.Equal(nameof(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), await HandshakeAsync(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256));
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private async Task<string> HandshakeAsync(TlsCipherSuite suite)
    {
        var address = fixture.Factory.BaseAddress;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        using var trusting = fixture.Certificates.CreateTrustingHandler();
        await using var ssl = new SslStream(tcp.GetStream());
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                RemoteCertificateValidationCallback = trusting.SslOptions.RemoteCertificateValidationCallback,
                EnabledSslProtocols = SslProtocols.Tls12,
                CipherSuitesPolicy = new CipherSuitesPolicy([suite]),
            });
            return ssl.NegotiatedCipherSuite.ToString();
        }
        catch (AuthenticationException)
        {
            return "fails";
        }
    }
}
