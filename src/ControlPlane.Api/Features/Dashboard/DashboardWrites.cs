using ControlPlane.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ControlPlane.Api.Features.Dashboard;

/// <summary>
/// Every write is audited, failed and denied ones included, in the dashboard too. A page
/// calls the API's own handler (which audits its success with the write); when the handler
/// answers with an error envelope, or the page's validation refuses the input before the
/// handler runs, the page hands the outcome here. It is audited as
/// <see cref="FailedWriteAudit"/> audits the API's failed writes (the request's changes
/// rolled back, one entry with <c>action.result: false</c>, the status and the error) and
/// the error's message is returned for the page to show.
/// </summary>
/// <remarks>
/// A dashboard form post answers 200 with the error on the page, so the API's middleware,
/// which keys on the response status, cannot see these failures; this is its counterpart.
/// </remarks>
public sealed class DashboardWrites(UnitOfWork work, ILogger<DashboardWrites> logger)
{
    /// <summary>
    /// The error message of a failed write, audited; <see langword="null"/> when
    /// <paramref name="result"/> is not an error envelope (the write succeeded).
    /// </summary>
    /// <param name="result">The API handler's result (its <c>.Result</c> for a <c>Results&lt;…&gt;</c> union).</param>
    /// <param name="action">The action the API route is audited under, such as <c>zone.create</c>.</param>
    /// <param name="resourceType">The resource type, such as <c>zone</c>.</param>
    /// <param name="resourceId">The id the write named, if any; not recorded when the answer is 404 (not the caller's).</param>
    /// <param name="page">The dashboard page that posted, recorded as the route.</param>
    public async Task<string?> FailureAsync(IResult? result, string action, string resourceType, string? resourceId, string page)
    {
        if (result is not JsonHttpResult<ApiEnvelope<object>> failed)
        {
            return null;
        }

        var error = failed.Value is { Errors.Count: > 0 } envelope ? envelope.Errors[0] : null;
        var status = failed.StatusCode ?? StatusCodes.Status400BadRequest;
        var message = error?.Message ?? "The change could not be made.";
        await RecordAsync(action, resourceType, status == StatusCodes.Status404NotFound ? null : resourceId, status, error?.Code, message, page);
        return message;
    }

    /// <summary>Audits input the page refused before calling the handler (400, with the API's validation code 1004) and returns <paramref name="message"/>.</summary>
    public async Task<string> InvalidAsync(string action, string resourceType, string? resourceId, string message, string page)
    {
        await RecordAsync(action, resourceType, resourceId, StatusCodes.Status400BadRequest, ErrorCodes.InvalidField, message, page);
        return message;
    }

    private async Task RecordAsync(string action, string resourceType, string? resourceId, int status, int? code, string message, string page)
    {
        try
        {
            await work.RecordFailureAsync(action, resourceType, resourceId is { Length: <= 64 } ? resourceId : null,
                new { status, error = new { code, message }, method = "POST", route = page }, CancellationToken.None);
        }
        catch (Exception e)
        {
            // As in FailedWriteAudit: the page still shows the error; the lost entry is logged.
            logger.LogError(e, "Could not audit a failed dashboard write {Action} on {Page} ({Status})", action, page, status);
        }
    }
}
