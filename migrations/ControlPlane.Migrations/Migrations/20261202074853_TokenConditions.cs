using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ControlPlane.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class TokenConditions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "condition",
                table: "api_tokens",
                type: "jsonb",
                nullable: true);

            // Any change to a token but its last use now reaches every replica's token cache,
            // so a new column (the condition here, or the next one) cannot be forgotten.
            migrationBuilder.Sql("""
                DROP TRIGGER api_tokens_changed ON api_tokens;
                CREATE TRIGGER api_tokens_changed AFTER UPDATE ON api_tokens FOR EACH ROW
                WHEN ((to_jsonb(OLD) - 'last_used_on') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_on'))
                EXECUTE FUNCTION notify_api_token_changed();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER api_tokens_changed ON api_tokens;
                CREATE TRIGGER api_tokens_changed AFTER UPDATE ON api_tokens FOR EACH ROW
                WHEN (OLD.secret_hash IS DISTINCT FROM NEW.secret_hash OR OLD.revoked_on IS DISTINCT FROM NEW.revoked_on
                      OR OLD.expires_on IS DISTINCT FROM NEW.expires_on OR OLD.not_before IS DISTINCT FROM NEW.not_before
                      OR OLD.policies IS DISTINCT FROM NEW.policies OR OLD.account_id IS DISTINCT FROM NEW.account_id)
                EXECUTE FUNCTION notify_api_token_changed();
                """);

            migrationBuilder.DropColumn(
                name: "condition",
                table: "api_tokens");
        }
    }
}
