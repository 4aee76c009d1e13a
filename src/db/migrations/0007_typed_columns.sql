-- Typed columns for fields apps query, until now only inside `raw`. Filled by the projections
-- from the next event on; `clerk-sync reproject` fills them for rows written before (from `raw`,
-- resumable), and a backfill does too. Adding nullable columns (and one with a constant default)
-- rewrites nothing, so this is instant on a large table.
ALTER TABLE "clerk"."users" ADD COLUMN "primary_phone_number" text;
--> statement-breakpoint
ALTER TABLE "clerk"."users" ADD COLUMN "email_verified" boolean;
--> statement-breakpoint
ALTER TABLE "clerk"."users" ADD COLUMN "two_factor_enabled" boolean;
--> statement-breakpoint
ALTER TABLE "clerk"."users" ADD COLUMN "password_enabled" boolean;
--> statement-breakpoint
ALTER TABLE "clerk"."users" ADD COLUMN "external_account_providers" text[] DEFAULT '{}'::text[] NOT NULL;
--> statement-breakpoint
ALTER TABLE "clerk"."users" ADD COLUMN "legal_accepted_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "clerk"."users" ADD COLUMN "locale" text;
--> statement-breakpoint
ALTER TABLE "clerk"."users" ADD COLUMN "full_name" text;
--> statement-breakpoint
ALTER TABLE "clerk"."organizations" ADD COLUMN "members_count" integer;
--> statement-breakpoint
ALTER TABLE "clerk"."organizations" ADD COLUMN "pending_invitations_count" integer;
--> statement-breakpoint
ALTER TABLE "clerk"."organization_memberships" ADD COLUMN "role_name" text;
--> statement-breakpoint
ALTER TABLE "clerk"."organization_memberships" ADD COLUMN "identifier" text;
--> statement-breakpoint
ALTER TABLE "clerk"."organization_memberships" ADD COLUMN "user_first_name" text;
--> statement-breakpoint
ALTER TABLE "clerk"."organization_memberships" ADD COLUMN "user_last_name" text;
--> statement-breakpoint
ALTER TABLE "clerk"."sessions" ADD COLUMN "actor" jsonb;
--> statement-breakpoint
ALTER TABLE "clerk"."sessions" ADD COLUMN "ip_address" text;
--> statement-breakpoint
ALTER TABLE "clerk"."sessions" ADD COLUMN "city" text;
--> statement-breakpoint
ALTER TABLE "clerk"."sessions" ADD COLUMN "country" text;
--> statement-breakpoint
ALTER TABLE "clerk"."sessions" ADD COLUMN "browser_name" text;
--> statement-breakpoint
ALTER TABLE "clerk"."sessions" ADD COLUMN "device_type" text;
--> statement-breakpoint
ALTER TABLE "clerk"."sessions" ADD COLUMN "is_mobile" boolean;
--> statement-breakpoint
ALTER TABLE "clerk"."organization_invitations" ADD COLUMN "role_name" text;
--> statement-breakpoint
ALTER TABLE "clerk"."organization_invitations" ADD COLUMN "inviter_id" text;
--> statement-breakpoint
ALTER TABLE "clerk"."subscription_items" ADD COLUMN "seats" integer;
--> statement-breakpoint
ALTER TABLE "clerk"."payment_attempts" ADD COLUMN "payment_method" text;
--> statement-breakpoint
ALTER TABLE "clerk"."payment_attempts" ADD COLUMN "card_type" text;
--> statement-breakpoint
ALTER TABLE "clerk"."payment_attempts" ADD COLUMN "payment_method_last4" text;
--> statement-breakpoint
-- Where `clerk-sync reproject` stands in each table, so a run cut short resumes where it stopped.
CREATE TABLE "clerk"."reproject_state" (
	"table_name" text PRIMARY KEY NOT NULL,
	"after_id" text,
	"rows_done" bigint DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
