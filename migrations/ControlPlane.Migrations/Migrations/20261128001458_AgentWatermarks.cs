using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ControlPlane.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class AgentWatermarks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "drift_repairs",
                table: "edge_agent_statuses",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "failures",
                table: "edge_agent_statuses",
                type: "jsonb",
                nullable: false,
                defaultValueSql: "'[]'::jsonb");

            migrationBuilder.AddColumn<long>(
                name: "watermark",
                table: "edge_agent_statuses",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "drift_repairs",
                table: "edge_agent_statuses");

            migrationBuilder.DropColumn(
                name: "failures",
                table: "edge_agent_statuses");

            migrationBuilder.DropColumn(
                name: "watermark",
                table: "edge_agent_statuses");
        }
    }
}
