CREATE SCHEMA IF NOT EXISTS "clerk";
--> statement-breakpoint
CREATE TABLE "clerk"."outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "clerk"."outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" text,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "outbox_status_check" CHECK ("clerk"."outbox"."status" in ('pending', 'sent', 'failed', 'dead'))
);
--> statement-breakpoint
CREATE TABLE "clerk"."webhook_events" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"clerk_timestamp" bigint,
	"instance_id" text,
	"payload" jsonb NOT NULL,
	"body_sha256" text,
	"source" text DEFAULT 'webhook' NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"applied_at" timestamp with time zone,
	CONSTRAINT "webhook_events_status_check" CHECK ("clerk"."webhook_events"."status" in ('pending', 'applied', 'stale', 'ignored', 'failed', 'dead'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_kind_key_idx" ON "clerk"."outbox" USING btree ("kind","key");--> statement-breakpoint
CREATE INDEX "outbox_due_idx" ON "clerk"."outbox" USING btree ("next_attempt_at") WHERE "clerk"."outbox"."status" in ('pending', 'failed');--> statement-breakpoint
CREATE INDEX "webhook_events_due_idx" ON "clerk"."webhook_events" USING btree ("next_attempt_at") WHERE "clerk"."webhook_events"."status" in ('pending', 'failed');--> statement-breakpoint
CREATE INDEX "webhook_events_type_received_idx" ON "clerk"."webhook_events" USING btree ("type","received_at");--> statement-breakpoint
CREATE INDEX "webhook_events_received_idx" ON "clerk"."webhook_events" USING btree ("received_at");