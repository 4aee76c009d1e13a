-- Retention (decision 0005). Inbox events past the window are deleted through the existing
-- `webhook_events_received_idx` (received_at), so the table intake writes gets no new index.
-- Sent side effects past the window keep their row as the record that (kind, key) was sent, and
-- lose the payload: pruned_at says when. Adding a nullable column rewrites nothing.
ALTER TABLE "clerk"."outbox" ADD COLUMN "pruned_at" timestamp with time zone;
--> statement-breakpoint
-- The sent rows not pruned yet, oldest first: what each prune batch reads. Only the outbox
-- (one row per side effect, a small share of events) pays for it.
CREATE INDEX "outbox_prunable_idx" ON "clerk"."outbox" USING btree ("sent_at") WHERE "status" = 'sent' AND "pruned_at" IS NULL;
