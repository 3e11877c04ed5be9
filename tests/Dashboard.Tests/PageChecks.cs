using Microsoft.Playwright;

namespace Dashboard.Tests;

/// <summary>Checks every dashboard page test makes: the CSP without violations, every control named.</summary>
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
}
