using System.Net;
using System.Text.RegularExpressions;

namespace ControlPlane.Testing;

/// <summary>
/// The dashboard as a browser without scripts uses it: cookies kept, redirects not followed
/// (so tests see them), forms posted with the antiforgery token the page carried.
/// </summary>
public sealed partial class DashboardBrowser : IDisposable
{
    public const string SessionCookieName = "__Host-cp-dashboard";

    private readonly CookieContainer cookies = new();
    private readonly HttpClient client;
    private readonly Uri baseAddress;

    /// <summary>A fresh browser; with <paramref name="sessionCookie"/> ("name=value"), one that holds a copy of another's session.</summary>
    public DashboardBrowser(ApiFactory api, string? sessionCookie = null)
    {
        baseAddress = api.BaseAddress;
        var handler = api.CreateTrustingHandler();
        handler.CookieContainer = cookies;
        handler.UseCookies = true;
        handler.AllowAutoRedirect = false;
        client = new HttpClient(handler) { BaseAddress = baseAddress };
        if (sessionCookie is not null)
        {
            cookies.SetCookies(baseAddress, sessionCookie + "; path=/; secure");
        }
    }

    /// <summary>The session cookie as "name=value", or null when there is none.</summary>
    public string? SessionCookie => cookies.GetCookies(baseAddress).FirstOrDefault(c => c.Name == SessionCookieName) is { } c ? $"{c.Name}={c.Value}" : null;

    /// <summary>The last Set-Cookie header the server sent for the session cookie.</summary>
    public string? LastSetCookie { get; private set; }

    public async Task<HttpResponseMessage> GetAsync(string path) => Remember(await client.GetAsync(path));

    /// <summary>Signs in on the sign-in page; follows the redirect that success answers with.</summary>
    public async Task<HttpResponseMessage> SignInAsync(string token) =>
        await SubmitAsync(await GetAsync("/dashboard/sign-in"), "sign-in", new() { ["Form.Token"] = token }, "/dashboard/sign-in");

    /// <summary>Posts the sign-out form of a page.</summary>
    public async Task<HttpResponseMessage> SignOutAsync()
    {
        var page = await GetAsync("/dashboard/zones");
        return await PostFormAsync("/dashboard/sign-out", new() { ["__RequestVerificationToken"] = AntiforgeryToken(await page.Content.ReadAsStringAsync()) });
    }

    /// <summary>Posts a form of <paramref name="page"/> (its antiforgery token included) to <paramref name="action"/>; follows one redirect, a streamed one too.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(HttpResponseMessage page, string formName, Dictionary<string, string> fields, string action)
    {
        var html = await page.Content.ReadAsStringAsync();
        var form = new Dictionary<string, string>(fields) { ["_handler"] = formName, ["__RequestVerificationToken"] = AntiforgeryToken(html) };
        var response = await PostFormAsync(action, form);
        if (response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther)
        {
            return await GetAsync(response.Headers.Location!.ToString());
        }

        // A stream-rendered page redirects inside the stream, as blazor.web.js would follow it:
        // an opaque /_framework URL that answers with the real redirect.
        if (StreamedRedirect().Match(await response.Content.ReadAsStringAsync()) is { Success: true } streamed)
        {
            var opaque = await GetAsync("/" + WebUtility.HtmlDecode(streamed.Groups["url"].Value));
            return await GetAsync(opaque.Headers.Location!.ToString());
        }

        return response;
    }

    /// <summary>Posts exactly these fields, nothing added.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, Dictionary<string, string> fields) =>
        Remember(await client.PostAsync(path, new FormUrlEncodedContent(fields)));

    public void Dispose() => client.Dispose();

    private static string AntiforgeryToken(string html) =>
        AntiforgeryField().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups["value"].Value)
            : throw new InvalidOperationException("the page has no antiforgery field:\n" + html);

    private HttpResponseMessage Remember(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("Set-Cookie", out var values) && values.LastOrDefault(v => v.StartsWith(SessionCookieName, StringComparison.Ordinal)) is { } set)
        {
            LastSetCookie = set;
        }

        return response;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"(?<value>[^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex("<template type=\"redirection\"[^>]*>(?<url>[^<]+)</template>")]
    private static partial Regex StreamedRedirect();
}
