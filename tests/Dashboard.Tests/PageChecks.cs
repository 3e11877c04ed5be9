using Microsoft.Playwright;

namespace Dashboard.Tests;

/// <summary>Steps and checks every dashboard page test makes: sign-in, the CSP without violations, every control named.</summary>
internal static class PageChecks
{
    /// <summary>Collects the console's Content-Security-Policy violations of a page, from now on.</summary>
    public static List<string> CspViolations(IPage page)
    {
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                violations.Add(message.Text);
            }
        };
        return violations;
    }

    /// <summary>Visible inputs and buttons without an accessible name (no label, no aria-label, no text), by their outer HTML.</summary>
    public static async Task<string[]> UnnamedControlsAsync(IPage page) => await page.EvaluateAsync<string[]>("""
        () => [...document.querySelectorAll('input:not([type=hidden]), button, select, textarea')]
            .filter(e => !(e.labels?.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby') && !e.textContent.trim())
            .map(e => e.outerHTML)
        """);

    /// <summary>Signs in on the sign-in page with a token and waits for the page it lands on (Zones for a customer, Fleet for the operator).</summary>
    public static async Task SignInAsync(IPage page, string token, string landingHeading = "Zones")
    {
        await page.GotoAsync("dashboard/sign-in");
        await page.GetByLabel("API token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = landingHeading }).WaitForAsync();
    }
}
