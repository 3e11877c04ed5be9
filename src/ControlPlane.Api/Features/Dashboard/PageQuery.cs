using System.Globalization;
using ControlPlane.Api.Infrastructure;

namespace ControlPlane.Api.Features.Dashboard;

/// <summary>
/// The <c>page</c> query parameter of a dashboard list, read as text: Blazor's
/// <c>[SupplyParameterFromQuery] int?</c> throws on <c>?page=abc</c> (a 500), where the REST
/// API answers 400. A number, in or out of range, goes to the API's handler, which judges it as
/// it judges <c>page</c> on the REST route.
/// </summary>
public static class PageQuery
{
    /// <summary>The page number (1 when absent), or null with <paramref name="error"/> set when the text is not an integer.</summary>
    public static int? Parse(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return 1;
        }

        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        error = $"page must be an integer from 1 to {Page.MaxNumber}.";
        return null;
    }
}
