-- Backfill state in the database (decision 0008): any machine resumes a backfill, status and
-- the admin page show its progress, and two backfills never run at once.
-- A run: what it covers, who holds it (host, pid, token) and when that holder last wrote.
CREATE TABLE "clerk"."backfill_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"resources" text[] NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"holder" jsonb,
	"heartbeat_at" timestamp with time zone,
	"requests" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "backfill_runs_status_check" CHECK ("status" in ('open', 'complete', 'replaced'))
);
--> statement-breakpoint
-- At most one open run: two backfills started together cannot both begin one.
CREATE UNIQUE INDEX "backfill_runs_one_open_idx" ON "clerk"."backfill_runs" ((true)) WHERE "status" = 'open';
--> statement-breakpoint
-- One row per listing of a run: where it stands (the offset of the next page, or for a listing
-- done per organization the organizations done), what it found, and when it finished. A page's
-- events and its position commit in one transaction.
CREATE TABLE "clerk"."backfill_state" (
	"run_id" text NOT NULL REFERENCES "clerk"."backfill_runs" ("id") ON DELETE CASCADE,
	"listing" text NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"total" integer,
	"listed" bigint DEFAULT 0 NOT NULL,
	"stored" bigint DEFAULT 0 NOT NULL,
	"per_organization" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	PRIMARY KEY ("run_id", "listing")
);
