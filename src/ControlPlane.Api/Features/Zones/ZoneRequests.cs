using ControlPlane.Api.Infrastructure;
using FluentValidation;

namespace ControlPlane.Api.Features.Zones;

public sealed record AccountIdRef(string? Id);

/// <summary><c>POST /zones</c>, as Cloudflare clients send it.</summary>
public sealed record CreateZoneRequest(AccountIdRef? Account, string? Name, string? Type);

public sealed class CreateZoneRequestValidator : AbstractValidator<CreateZoneRequest>
{
    public CreateZoneRequestValidator()
    {
        RuleFor(r => r.Account).NotNull().WithMessage("account.id is required");
        RuleFor(r => r.Account!.Id).NotEmpty().WithMessage("account.id is required").When(r => r.Account is not null);
        RuleFor(r => r.Name).Custom((name, context) =>
        {
            if (!ZoneNames.TryCanonicalize(name, out _, out var error))
            {
                context.AddFailure("name", error);
            }
        });
        RuleFor(r => r.Type).Must(t => t is null or "full").WithMessage("type must be 'full'");
    }
}

/// <summary><c>PATCH /zones/{id}</c>: the fields a customer may change.</summary>
public sealed record PatchZoneRequest(bool? Paused);

public sealed class PatchZoneRequestValidator : AbstractValidator<PatchZoneRequest>
{
    public PatchZoneRequestValidator() =>
        RuleFor(r => r.Paused).NotNull().WithMessage("paused is the only field that can be changed, and it is missing");
}

