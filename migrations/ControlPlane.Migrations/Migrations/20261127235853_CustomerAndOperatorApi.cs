using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ControlPlane.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class CustomerAndOperatorApi : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "accounts",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    created_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_accounts", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "address_pools",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    cidr = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    is_v6 = table.Column<bool>(type: "boolean", nullable: false),
                    next_offset = table.Column<long>(type: "bigint", nullable: false),
                    size = table.Column<long>(type: "bigint", nullable: false),
                    created_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_address_pools", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "audit_logs",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    account_id = table.Column<string>(type: "text", nullable: true),
                    action_type = table.Column<string>(type: "text", nullable: false),
                    action_result = table.Column<bool>(type: "boolean", nullable: false),
                    actor_type = table.Column<string>(type: "text", nullable: false),
                    actor_id = table.Column<string>(type: "text", nullable: true),
                    token_id = table.Column<string>(type: "text", nullable: true),
                    actor_ip = table.Column<string>(type: "text", nullable: true),
                    resource_type = table.Column<string>(type: "text", nullable: false),
                    resource_id = table.Column<string>(type: "text", nullable: true),
                    zone_name = table.Column<string>(type: "text", nullable: true),
                    old_value = table.Column<string>(type: "jsonb", nullable: true),
                    new_value = table.Column<string>(type: "jsonb", nullable: true),
                    metadata = table.Column<string>(type: "jsonb", nullable: true),
                    when = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_logs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "change_log",
                columns: table => new
                {
                    revision = table.Column<long>(type: "bigint", nullable: false),
                    created_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    zones = table.Column<string>(type: "jsonb", nullable: false),
                    published_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_change_log", x => x.revision);
                });

            migrationBuilder.CreateTable(
                name: "data_centers",
                columns: table => new
                {
                    code = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    name = table.Column<string>(type: "character varying(120)", maxLength: 120, nullable: false),
                    credential_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_data_centers", x => x.code);
                });

            migrationBuilder.CreateTable(
                name: "revision_sequencer",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    last_revision = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_revision_sequencer", x => x.id);
                    table.CheckConstraint("ck_revision_sequencer_single_row", "id = 1");
                });

            migrationBuilder.CreateTable(
                name: "api_tokens",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    account_id = table.Column<string>(type: "character varying(32)", nullable: false),
                    name = table.Column<string>(type: "character varying(120)", maxLength: 120, nullable: false),
                    secret_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    policies = table.Column<string>(type: "jsonb", nullable: false),
                    not_before = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    expires_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    issued_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    modified_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    last_used_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    revoked_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    revoked_reason = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_api_tokens", x => x.id);
                    table.ForeignKey(
                        name: "fk_api_tokens_accounts_account_id",
                        column: x => x.account_id,
                        principalTable: "accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "zones",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    account_id = table.Column<string>(type: "character varying(32)", nullable: false),
                    name = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    paused = table.Column<bool>(type: "boolean", nullable: false),
                    type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    modified_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    deleted_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    http_ports_closed = table.Column<bool>(type: "boolean", nullable: false),
                    setting_modified_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    revision = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_zones", x => x.id);
                    table.ForeignKey(
                        name: "fk_zones_accounts_account_id",
                        column: x => x.account_id,
                        principalTable: "accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "edge_addresses",
                columns: table => new
                {
                    address = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    pool_id = table.Column<string>(type: "character varying(32)", nullable: false),
                    is_v6 = table.Column<bool>(type: "boolean", nullable: false),
                    zone_id = table.Column<string>(type: "character varying(32)", nullable: true),
                    allocated_on = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    reusable_after = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_edge_addresses", x => x.address);
                    table.ForeignKey(
                        name: "fk_edge_addresses_address_pools_pool_id",
                        column: x => x.pool_id,
                        principalTable: "address_pools",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_edge_addresses_zones_zone_id",
                        column: x => x.zone_id,
                        principalTable: "zones",
                        principalColumn: "id");
                });

            migrationBuilder.InsertData(
                table: "revision_sequencer",
                columns: new[] { "id", "last_revision" },
                values: new object[] { 1, 0L });

            migrationBuilder.CreateIndex(
                name: "ix_address_pools_cidr",
                table: "address_pools",
                column: "cidr",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_account_id",
                table: "api_tokens",
                column: "account_id");

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_secret_hash",
                table: "api_tokens",
                column: "secret_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_audit_logs_account_id_when",
                table: "audit_logs",
                columns: new[] { "account_id", "when" });

            migrationBuilder.CreateIndex(
                name: "ix_change_log_unpublished",
                table: "change_log",
                column: "revision",
                filter: "published_on IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_data_centers_credential_hash",
                table: "data_centers",
                column: "credential_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_edge_addresses_is_v6_reusable_after",
                table: "edge_addresses",
                columns: new[] { "is_v6", "reusable_after" },
                filter: "zone_id IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_edge_addresses_pool_id",
                table: "edge_addresses",
                column: "pool_id");

            migrationBuilder.CreateIndex(
                name: "ix_edge_addresses_zone_id",
                table: "edge_addresses",
                column: "zone_id");

            migrationBuilder.CreateIndex(
                name: "ix_zones_account_id_name",
                table: "zones",
                columns: new[] { "account_id", "name" });

            migrationBuilder.CreateIndex(
                name: "ix_zones_name_live",
                table: "zones",
                column: "name",
                unique: true,
                filter: "deleted_on IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "api_tokens");

            migrationBuilder.DropTable(
                name: "audit_logs");

            migrationBuilder.DropTable(
                name: "change_log");

            migrationBuilder.DropTable(
                name: "data_centers");

            migrationBuilder.DropTable(
                name: "edge_addresses");

            migrationBuilder.DropTable(
                name: "revision_sequencer");

            migrationBuilder.DropTable(
                name: "address_pools");

            migrationBuilder.DropTable(
                name: "zones");

            migrationBuilder.DropTable(
                name: "accounts");
        }
    }
}
