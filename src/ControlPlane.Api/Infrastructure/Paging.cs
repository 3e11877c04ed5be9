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

/// <summary>Page and per_page, with Cloudflare's bounds; a page past the end is an empty list, not an error.</summary>
public readonly record struct Page(int Number, int Size)
{
    public const int MinSize = 5;
    public const int MaxSize = 50;
    public const int DefaultSize = 20;

    public int Skip => (Number - 1) * Size;

    /// <summary>Null with an error message when the values are out of bounds.</summary>
    public static Page? From(int? page, int? perPage, out string? error)
    {
        error = null;
        var number = page ?? 1;
        var size = perPage ?? DefaultSize;
        if (number < 1 || number > 100_000)
        {
            error = "page must be between 1 and 100000";
            return null;
        }

        if (size is < MinSize or > MaxSize)
        {
            error = $"per_page must be between {MinSize} and {MaxSize}";
            return null;
        }

        return new Page(number, size);
    }

    public PagedEnvelope<T> Envelope<T>(IReadOnlyList<T> items, int totalCount) =>
        new(true, [], [], items, new ResultInfo(Number, Size, items.Count, totalCount, (totalCount + Size - 1) / Size));
}
