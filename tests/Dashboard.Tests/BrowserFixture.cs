using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ControlPlane.Testing;
using Microsoft.Playwright;

namespace Dashboard.Tests;

/// <summary>
/// One headless Chromium (Debian's, driven by Playwright) shared by the tests of the
/// "browser" collection, and the certificates every API those tests start must use.
/// </summary>
/// <remarks>
/// Playwright cannot download its own browsers here (no Internet), so it drives
/// <c>/usr/bin/chromium</c>, which <c>scripts/test</c> installs with apt; its driver (Node
/// and playwright-core) comes inside the NuGet package and is copied to bin/ by the build,
/// so nothing is downloaded at build or run time. TLS is verified,
/// not switched off: Chromium is launched with <c>--ignore-certificate-errors-spki-list</c>
/// naming the SHA-256 of the test server certificate's public key, so it accepts that one
/// key (and no other untrusted certificate) without touching an NSS trust store. The pin
/// is the server certificate's key, not the CA's: Kestrel sends the leaf alone, so the CA
/// never appears in the chain Chromium checks. The pin is fixed at launch, which is why the
/// fixture owns the certificates: start the API with <c>new ApiFactory(browser.Certificates, …)</c>.
/// </remarks>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Debian's package, installed by <c>ensure_packages</c> in scripts/lib/stack.sh.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright playwright = null!;
    private IBrowser browser = null!;

    /// <summary>The CA and server certificate the browser trusts; an API under test must serve these.</summary>
    public TestCertificates Certificates { get; } = new();

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} not found: run the tests with scripts/test, which installs Debian's chromium.");
        }

        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // The tests run as root, where Chromium's sandbox cannot start; false makes
            // Playwright pass --no-sandbox.
            ChromiumSandbox = false,
            Args =
            [
                "--ignore-certificate-errors-spki-list=" + PublicKeyPin(Certificates.CertificatePath),
                // Chromium still looks up Google's sign-in, update and connectivity-check hosts;
                // no name but the loopback ones resolves, so nothing leaves the machine and a page
                // that needs an outside asset shows it instead of waiting on a DNS timeout.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            ],
        });
    }

    /// <summary>
    /// A fresh context (cookies, storage, cache) for one test; dispose it at the end of the
    /// test. Certificate errors stay fatal whatever <paramref name="options"/> says.
    /// </summary>
    public Task<IBrowserContext> NewContextAsync(BrowserNewContextOptions? options = null) =>
        browser.NewContextAsync(new BrowserNewContextOptions(options ?? new BrowserNewContextOptions())
        {
            IgnoreHTTPSErrors = false,
        });

    /// <summary>
    /// Saves a full-page screenshot to <c>.local/test/screenshots/&lt;class&gt;.&lt;test&gt;.png</c>
    /// under the repository root (git-ignored, so runs never dirty the tree) and returns its path.
    /// </summary>
    public static async Task<string> SaveScreenshotAsync(
        IPage page, [CallerFilePath] string testFile = "", [CallerMemberName] string testName = "")
    {
        var directory = Path.Combine(TestEnvironment.RepositoryRoot, ".local", "test", "screenshots");
        Directory.CreateDirectory(directory);
        // Test classes live in files named for them, so the file name is the class name.
        var path = Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(testFile)}.{testName}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async Task DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.CloseAsync();
        }

        playwright?.Dispose();
        Certificates.Dispose();
    }

    /// <summary>The base64 SHA-256 of a certificate's SubjectPublicKeyInfo, the form Chromium's SPKI list takes.</summary>
    private static string PublicKeyPin(string certificatePemPath)
    {
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePemPath));
        return Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
    }
}
