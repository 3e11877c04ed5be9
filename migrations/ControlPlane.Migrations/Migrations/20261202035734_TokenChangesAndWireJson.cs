using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ControlPlane.Migrations.Migrations
{
    /// <summary>
    /// Two things the model cannot say: (1) every change to a token that authentication
    /// depends on notifies <c>api_token_changed</c> with the token id, so each API replica's
    /// token cache drops it (a trigger, so no writer can forget; <c>last_used_on</c> alone does
    /// not notify); (2) <c>api_tokens.policies</c> moves from .NET's default JSON form
    /// (PascalCase) to the wire form (camelCase) that every other typed jsonb column uses.
    /// </summary>
    public partial class TokenChangesAndWireJson : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION notify_api_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('api_token_changed', OLD.id);
                    RETURN NULL;
                END $$;

                CREATE TRIGGER api_tokens_changed AFTER UPDATE ON api_tokens FOR EACH ROW
                WHEN (OLD.secret_hash IS DISTINCT FROM NEW.secret_hash OR OLD.revoked_on IS DISTINCT FROM NEW.revoked_on
                      OR OLD.expires_on IS DISTINCT FROM NEW.expires_on OR OLD.not_before IS DISTINCT FROM NEW.not_before
                      OR OLD.policies IS DISTINCT FROM NEW.policies OR OLD.account_id IS DISTINCT FROM NEW.account_id)
                EXECUTE FUNCTION notify_api_token_changed();

                CREATE TRIGGER api_tokens_deleted AFTER DELETE ON api_tokens FOR EACH ROW
                EXECUTE FUNCTION notify_api_token_changed();
                """);

            // Policies: {"Id","Effect","PermissionGroupIds","Resources"} -> {"id","effect","permissionGroupIds","resources"}.
            migrationBuilder.Sql("""
                UPDATE api_tokens SET policies = (
                    SELECT COALESCE(jsonb_agg(jsonb_build_object(
                        'id', p -> 'Id', 'effect', p -> 'Effect', 'permissionGroupIds', p -> 'PermissionGroupIds', 'resources', p -> 'Resources')
                        ORDER BY ordinality), '[]'::jsonb)
                    FROM jsonb_array_elements(policies) WITH ORDINALITY AS e(p, ordinality))
                WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(policies) AS e(p) WHERE p ? 'Id');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                UPDATE api_tokens SET policies = (
                    SELECT COALESCE(jsonb_agg(jsonb_build_object(
                        'Id', p -> 'id', 'Effect', p -> 'effect', 'PermissionGroupIds', p -> 'permissionGroupIds', 'Resources', p -> 'resources')
                        ORDER BY ordinality), '[]'::jsonb)
                    FROM jsonb_array_elements(policies) WITH ORDINALITY AS e(p, ordinality))
                WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(policies) AS e(p) WHERE p ? 'id');

                DROP TRIGGER api_tokens_deleted ON api_tokens;
                DROP TRIGGER api_tokens_changed ON api_tokens;
                DROP FUNCTION notify_api_token_changed();
                """);
        }
    }
}
