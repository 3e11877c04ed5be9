namespace ControlPlane.Api.Infrastructure;

/// <summary><c>result_info</c> of a list response.</summary>
public sealed record ResultInfo(int Page, int PerPage, int Count, int TotalCount, int TotalPages);

/// <summary>A page of a list, in the envelope with <c>result_info</c>.</summary>
public sealed record PagedEnvelope<T>(
    bool Success,
    IReadOnlyList<ApiMessage> Errors,
    IReadOnlyList<ApiMessage> Messages,
    IReadOnlyList<T> Result,
    ResultInfo ResultInfo);

/// <summary>
/// The <c>per_page</c> a list accepts, from the table in docs/compat.md ("Paging"): what
/// Cloudflare's real clients send, which is wider than its published schema.
/// </summary>
public readonly record struct PageBounds(int MaxSize, int DefaultSize)
{
    /// <summary>Zones, tokens and every other list: 1–50, default 20.</summary>
    public static readonly PageBounds Default = new(50, 20);

    /// <summary>Audit logs: 1–1000, default 100 (Elastic's Cloudflare input always sends 100).</summary>
    public static readonly PageBounds AuditLogs = new(1000, 100);
}

/// <summary>
/// Page and per_page. <c>page</c> starts at 1 (at most 100,000); <c>per_page</c> from 1 up to the
/// list's maximum, and a larger one is clamped to it, as Cloudflare does. Anything not a
/// positive integer is the caller's error (400, code 1004). A page past the end is an empty
/// list, not an error.
/// </summary>
public readonly record struct Page(int Number, int Size)
{
    public const int MaxNumber = 100_000;

    public int Skip => (Number - 1) * Size;

    /// <summary>Null with an error message when a value is not a positive integer.</summary>
    public static Page? From(int? page, int? perPage, PageBounds bounds, out string? error)
    {
        error = null;
        var number = page ?? 1;
        var size = perPage ?? bounds.DefaultSize;
        if (number < 1 || number > MaxNumber)
        {
            error = $"page must be an integer from 1 to {MaxNumber}";
            return null;
        }

        if (size < 1)
        {
            error = $"per_page must be a positive integer (at most {bounds.MaxSize} are returned)";
            return null;
        }

        return new Page(number, Math.Min(size, bounds.MaxSize));
    }

    public PagedEnvelope<T> Envelope<T>(IReadOnlyList<T> items, int totalCount) =>
        new(true, [], [], items, new ResultInfo(Number, Size, items.Count, totalCount, (totalCount + Size - 1) / Size));
}
