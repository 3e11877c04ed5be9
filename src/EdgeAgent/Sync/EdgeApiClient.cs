using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using ControlPlane.Contracts;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Sync;

/// <summary>
/// Fetches the snapshot from the control plane's edge API over HTTPS, authenticated with
/// the DC's credential. The body is newline-delimited JSON read line by line.
/// </summary>
public sealed class EdgeApiClient : ISnapshotSource, IDisposable
{
    private readonly HttpClient http;
    private readonly X509Certificate2? authority;

    public EdgeApiClient(IOptions<AgentOptions> options)
    {
        var agent = options.Value;
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (agent.CaCertificatePath.Length > 0)
        {
            authority = X509Certificate2.CreateFromPem(File.ReadAllText(agent.CaCertificatePath));
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = TrustOnlyAuthority };
        }

        http = new HttpClient(handler) { BaseAddress = new Uri(agent.ControlPlaneUrl), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", agent.Credential);
    }

    /// <inheritdoc />
    public async Task<Snapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("/edge/v1/snapshot", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"snapshot refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var header = await reader.ReadLineAsync(cancellationToken) ?? throw new HttpRequestException("empty snapshot");
        var revision = JsonDocument.Parse(header).RootElement.GetProperty("revision").GetInt64();
        var zones = new List<ZoneEdgeState>();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length > 0)
            {
                zones.Add(JsonSerializer.Deserialize<ZoneEdgeState>(line, WireJson.Options)!);
            }
        }

        return new Snapshot(revision, zones);
    }

    public void Dispose()
    {
        http.Dispose();
        authority?.Dispose();
    }

    private bool TrustOnlyAuthority(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || authority is null)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(authority);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }
}
