using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ControlPlane.Api.Data;

/// <summary>Plaintext connection attempts to one zone seen by one DC in one time bucket (a minute or an hour).</summary>
public abstract class TrafficBucket
{
    public required string ZoneId { get; init; }
    public required string DataCenter { get; init; }
    public DateTime Start { get; init; }
    public long AttemptedV4 { get; set; }
    public long AttemptedV6 { get; set; }
    public long BlockedV4 { get; set; }
    public long BlockedV6 { get; set; }
}

public sealed class TrafficMinute : TrafficBucket;

public sealed class TrafficHour : TrafficBucket;

/// <summary>A traffic report already counted: a redelivered one is recognised by its id and ignored.</summary>
public sealed class TrafficReport
{
    public Guid ReportId { get; init; }
    public required string DataCenter { get; init; }
    public DateTime ReceivedOn { get; init; }
}

public sealed class TrafficMinuteConfiguration : IEntityTypeConfiguration<TrafficMinute>
{
    public void Configure(EntityTypeBuilder<TrafficMinute> builder)
    {
        builder.ToTable("traffic_minutes");
        builder.HasKey(t => new { t.ZoneId, t.DataCenter, t.Start });
        builder.HasIndex(t => t.Start);
    }
}

public sealed class TrafficHourConfiguration : IEntityTypeConfiguration<TrafficHour>
{
    public void Configure(EntityTypeBuilder<TrafficHour> builder)
    {
        builder.ToTable("traffic_hours");
        builder.HasKey(t => new { t.ZoneId, t.DataCenter, t.Start });
        builder.HasIndex(t => t.Start);
    }
}

public sealed class TrafficReportConfiguration : IEntityTypeConfiguration<TrafficReport>
{
    public void Configure(EntityTypeBuilder<TrafficReport> builder)
    {
        builder.ToTable("traffic_reports");
        builder.HasKey(r => r.ReportId);
        builder.HasIndex(r => r.ReceivedOn);
    }
}
