using FluentValidation;

namespace ControlPlane.Api.Infrastructure;

/// <summary>
/// The one validation filter: runs the FluentValidation validator of the endpoint's
/// body type and answers 400 with one envelope error (code 1004) per failure, before
/// the handler can write anything.
/// </summary>
public sealed class ValidationFilter<T>(IValidator<T> validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var argument = context.Arguments.OfType<T>().FirstOrDefault();
        if (argument is null)
        {
            return Results.Json(ApiEnvelope.Failure(ErrorCodes.InvalidField, "A JSON request body is required."), statusCode: StatusCodes.Status400BadRequest);
        }

        var result = await validator.ValidateAsync(argument, context.HttpContext.RequestAborted);
        if (result.IsValid)
        {
            return await next(context);
        }

        var errors = result.Errors
            .Select(e => new ApiMessage(e.ErrorCode is { Length: 4 } code && int.TryParse(code, out var n) ? n : ErrorCodes.InvalidField, e.ErrorMessage))
            .ToList();
        return Results.Json(ApiEnvelope.Failure(errors), statusCode: StatusCodes.Status400BadRequest);
    }
}

public static class ValidationExtensions
{
    public static RouteHandlerBuilder WithValidation<T>(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<ValidationFilter<T>>().Produces<ApiEnvelope<object>>(StatusCodes.Status400BadRequest);
}
