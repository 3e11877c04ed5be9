using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ControlPlane.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class ZoneNameUnicode : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "name_unicode",
                table: "zones",
                type: "character varying(253)",
                maxLength: 253,
                nullable: false,
                defaultValue: "");

            // Right for every name without an xn-- label; the migrations program decodes the
            // others with the platform IDNA after migrating (ZoneNameBackfill), since SQL cannot.
            migrationBuilder.Sql("UPDATE zones SET name_unicode = name;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "name_unicode",
                table: "zones");
        }
    }
}
