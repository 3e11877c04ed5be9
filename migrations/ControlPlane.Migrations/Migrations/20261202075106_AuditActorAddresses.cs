using System.Net;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ControlPlane.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class AuditActorAddresses : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The client address becomes inet, so actor.ip filters by CIDR in the database. Rows
            // written by a dual-stack listener hold IPv4 clients as IPv4-mapped IPv6
            // (::ffff:192.0.2.1): they are stored as the IPv4 address they are.
            migrationBuilder.Sql("""
                ALTER TABLE audit_logs ALTER COLUMN actor_ip TYPE inet USING (
                    CASE WHEN actor_ip ILIKE '::ffff:%.%' THEN substr(actor_ip, 8) ELSE actor_ip END)::inet;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "actor_ip",
                table: "audit_logs",
                type: "text",
                nullable: true,
                oldClrType: typeof(IPAddress),
                oldType: "inet",
                oldNullable: true);
        }
    }
}
