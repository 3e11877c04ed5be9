using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ControlPlane.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class PlaintextTraffic : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "traffic_hours",
                columns: table => new
                {
                    zone_id = table.Column<string>(type: "text", nullable: false),
                    data_center = table.Column<string>(type: "text", nullable: false),
                    start = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    attempted_v4 = table.Column<long>(type: "bigint", nullable: false),
                    attempted_v6 = table.Column<long>(type: "bigint", nullable: false),
                    blocked_v4 = table.Column<long>(type: "bigint", nullable: false),
                    blocked_v6 = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_traffic_hours", x => new { x.zone_id, x.data_center, x.start });
                });

            migrationBuilder.CreateTable(
                name: "traffic_minutes",
                columns: table => new
                {
                    zone_id = table.Column<string>(type: "text", nullable: false),
                    data_center = table.Column<string>(type: "text", nullable: false),
                    start = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    attempted_v4 = table.Column<long>(type: "bigint", nullable: false),
                    attempted_v6 = table.Column<long>(type: "bigint", nullable: false),
                    blocked_v4 = table.Column<long>(type: "bigint", nullable: false),
                    blocked_v6 = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_traffic_minutes", x => new { x.zone_id, x.data_center, x.start });
                });

            migrationBuilder.CreateTable(
                name: "traffic_reports",
                columns: table => new
                {
                    report_id = table.Column<Guid>(type: "uuid", nullable: false),
                    data_center = table.Column<string>(type: "text", nullable: false),
                    received_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_traffic_reports", x => x.report_id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_traffic_hours_start",
                table: "traffic_hours",
                column: "start");

            migrationBuilder.CreateIndex(
                name: "ix_traffic_minutes_start",
                table: "traffic_minutes",
                column: "start");

            migrationBuilder.CreateIndex(
                name: "ix_traffic_reports_received_on",
                table: "traffic_reports",
                column: "received_on");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "traffic_hours");

            migrationBuilder.DropTable(
                name: "traffic_minutes");

            migrationBuilder.DropTable(
                name: "traffic_reports");
        }
    }
}
