using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ControlPlane.Migrations.Migrations
{
    /// <summary>
    /// <c>edge_addresses.account_id</c>: the account of the zone holding the address, so the
    /// tenant filter on addresses is a column test instead of a join of every address to its
    /// zone (which made loading one zone's addresses read them all). Filled from the zones.
    /// </summary>
    public partial class EdgeAddressAccounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "account_id",
                table: "edge_addresses",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.Sql("UPDATE edge_addresses AS e SET account_id = z.account_id FROM zones AS z WHERE e.zone_id = z.id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "account_id",
                table: "edge_addresses");
        }
    }
}
