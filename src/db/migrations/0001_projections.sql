CREATE TABLE "clerk"."emails" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"to_email_address" text,
	"from_email_name" text,
	"subject" text,
	"slug" text,
	"status" text,
	"user_id" text,
	"email_address_id" text,
	"delivered_by_clerk" boolean
);
--> statement-breakpoint
CREATE TABLE "clerk"."invitations" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"email_address" text,
	"role" text,
	"status" text,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "clerk"."organization_domains" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"organization_id" text,
	"name" text,
	"enrollment_mode" text,
	"verification_status" text
);
--> statement-breakpoint
CREATE TABLE "clerk"."organization_invitations" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"email_address" text,
	"organization_id" text,
	"role" text,
	"status" text,
	"user_id" text,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "clerk"."organization_memberships" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"organization_id" text,
	"user_id" text,
	"role" text,
	"permissions" text[] DEFAULT '{}'::text[] NOT NULL,
	"public_metadata" jsonb
);
--> statement-breakpoint
CREATE TABLE "clerk"."organizations" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"name" text,
	"slug" text,
	"image_url" text,
	"created_by" text,
	"public_metadata" jsonb,
	"private_metadata" jsonb,
	"max_allowed_memberships" integer
);
--> statement-breakpoint
CREATE TABLE "clerk"."payment_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"payer_id" text,
	"user_id" text,
	"organization_id" text,
	"payment_id" text,
	"statement_id" text,
	"status" text,
	"charge_type" text,
	"amount" bigint,
	"currency" text,
	"billing_date" timestamp with time zone,
	"paid_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"failed_reason" text
);
--> statement-breakpoint
CREATE TABLE "clerk"."permissions" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"key" text,
	"name" text,
	"description" text,
	"type" text
);
--> statement-breakpoint
CREATE TABLE "clerk"."roles" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"key" text,
	"name" text,
	"description" text,
	"permissions" text[] DEFAULT '{}'::text[] NOT NULL
);
--> statement-breakpoint
CREATE TABLE "clerk"."sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"user_id" text,
	"client_id" text,
	"status" text,
	"last_active_organization_id" text,
	"last_active_at" timestamp with time zone,
	"expire_at" timestamp with time zone,
	"abandon_at" timestamp with time zone,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "clerk"."sms_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"to_phone_number" text,
	"from_phone_number" text,
	"slug" text,
	"status" text,
	"user_id" text,
	"phone_number_id" text,
	"delivered_by_clerk" boolean
);
--> statement-breakpoint
CREATE TABLE "clerk"."subscription_items" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"payer_id" text,
	"user_id" text,
	"organization_id" text,
	"subscription_id" text,
	"status" text,
	"plan_id" text,
	"plan_slug" text,
	"plan_name" text,
	"amount" bigint,
	"currency" text,
	"interval" text,
	"is_free_trial" boolean,
	"period_start" timestamp with time zone,
	"period_end" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "clerk"."subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"payer_id" text,
	"user_id" text,
	"organization_id" text,
	"status" text,
	"plan_id" text,
	"plan_slug" text,
	"latest_payment_id" text,
	"payment_source_id" text,
	"active_at" timestamp with time zone,
	"past_due_at" timestamp with time zone,
	"canceled_at" timestamp with time zone,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "clerk"."users" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"external_id" text,
	"primary_email" text,
	"email_addresses" jsonb,
	"phone_numbers" jsonb,
	"first_name" text,
	"last_name" text,
	"username" text,
	"image_url" text,
	"public_metadata" jsonb,
	"private_metadata" jsonb,
	"unsafe_metadata" jsonb,
	"banned" boolean,
	"locked" boolean,
	"last_sign_in_at" timestamp with time zone,
	"last_active_at" timestamp with time zone,
	"role" text,
	"permissions" text[] DEFAULT '{}'::text[] NOT NULL,
	"organization_id" text,
	"is_active" boolean DEFAULT true NOT NULL,
	"onboarding_completed" boolean DEFAULT false NOT NULL,
	"_scrubbed" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "clerk"."waitlist_entries" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone,
	"updated_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"raw" jsonb,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"_version" bigint,
	"_event_ts" bigint,
	"_event_id" text,
	"email_address" text,
	"status" text
);
--> statement-breakpoint
CREATE INDEX "emails_user_id_idx" ON "clerk"."emails" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "organization_domains_organization_id_idx" ON "clerk"."organization_domains" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "organization_invitations_organization_id_idx" ON "clerk"."organization_invitations" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "organization_memberships_organization_id_idx" ON "clerk"."organization_memberships" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "organization_memberships_user_id_idx" ON "clerk"."organization_memberships" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "organizations_slug_idx" ON "clerk"."organizations" USING btree ("slug");--> statement-breakpoint
CREATE INDEX "payment_attempts_user_id_idx" ON "clerk"."payment_attempts" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "payment_attempts_organization_id_idx" ON "clerk"."payment_attempts" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "permissions_key_idx" ON "clerk"."permissions" USING btree ("key");--> statement-breakpoint
CREATE INDEX "roles_key_idx" ON "clerk"."roles" USING btree ("key");--> statement-breakpoint
CREATE INDEX "sessions_user_id_idx" ON "clerk"."sessions" USING btree ("user_id","last_active_at");--> statement-breakpoint
CREATE INDEX "sms_messages_user_id_idx" ON "clerk"."sms_messages" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "subscription_items_subscription_id_idx" ON "clerk"."subscription_items" USING btree ("subscription_id");--> statement-breakpoint
CREATE INDEX "subscription_items_user_id_idx" ON "clerk"."subscription_items" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "subscription_items_organization_id_idx" ON "clerk"."subscription_items" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "subscriptions_user_id_idx" ON "clerk"."subscriptions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "subscriptions_organization_id_idx" ON "clerk"."subscriptions" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "users_primary_email_idx" ON "clerk"."users" USING btree ("primary_email");--> statement-breakpoint
CREATE INDEX "users_organization_id_idx" ON "clerk"."users" USING btree ("organization_id");