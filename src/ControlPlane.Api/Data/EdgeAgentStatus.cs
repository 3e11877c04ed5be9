using ControlPlane.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ControlPlane.Api.Data;

/// <summary>The latest word from the agent of one data center: one row per DC, never per zone.</summary>
public sealed class EdgeAgentStatus
{
    public required string DataCenter { get; set; }
    public required string AgentVersion { get; set; }
    public bool Ready { get; set; }
    public string? Reason { get; set; }

    /// <summary>When the agent took the reading (its clock).</summary>
    public DateTimeOffset ReportedAt { get; set; }

    /// <summary>When the control plane received it (our clock); staleness is judged on this.</summary>
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>The highest change-log revision the DC has applied in order.</summary>
    public long Watermark { get; set; }

    /// <summary>The zones the DC could not apply (jsonb, wire form).</summary>
    public List<ZoneFailure> Failures { get; set; } = [];

    public long DriftRepairs { get; set; }

    /// <summary>The agent's background-loop failures since it started, and the latest one (as it reported them).</summary>
    public long LoopFailures { get; set; }

    public string? LastLoopError { get; set; }

    /// <summary>True when the DC has been silent for longer than <paramref name="staleAfter"/> (judged on our clock).</summary>
    public bool IsStale(DateTimeOffset now, TimeSpan staleAfter) => now - ReceivedAt > staleAfter;

}

public sealed class EdgeAgentStatusConfiguration : IEntityTypeConfiguration<EdgeAgentStatus>
{
    public void Configure(EntityTypeBuilder<EdgeAgentStatus> builder)
    {
        builder.HasKey(s => s.DataCenter);
        builder.Property(s => s.DataCenter).HasMaxLength(16);
        builder.Property(s => s.AgentVersion).HasMaxLength(64);
        builder.Property(s => s.Reason).HasMaxLength(1024);
        builder.Property(s => s.LastLoopError).HasMaxLength(1024);
        builder.Property(s => s.Failures).HasWireJson().HasDefaultValueSql("'[]'::jsonb");
    }
}
