using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ControlPlane.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class AuditLogInterface : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "interface",
                table: "audit_logs",
                type: "character varying(8)",
                maxLength: 8,
                nullable: false,
                // Entries written before the column existed came through the API or the dashboard,
                // and the two were not told apart; they read as "API", as they were shown until now.
                defaultValue: "API");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "interface",
                table: "audit_logs");
        }
    }
}
