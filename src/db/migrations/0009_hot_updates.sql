-- Most events rewrite a row that exists (user.updated, session.*, membership and organization
-- updates). With full pages every such upsert is a new tuple on another page plus a new entry in
-- each of the table's indexes; with room left on the page, and no indexed column changed, Postgres
-- writes a heap-only tuple (HOT): no index entry, less WAL, and the old version is reclaimed by
-- page pruning without vacuum (decision 0006). fillfactor applies to pages written from now on.
ALTER TABLE "clerk"."users" SET (fillfactor = 70);
--> statement-breakpoint
ALTER TABLE "clerk"."sessions" SET (fillfactor = 70);
--> statement-breakpoint
ALTER TABLE "clerk"."organization_memberships" SET (fillfactor = 70);
--> statement-breakpoint
ALTER TABLE "clerk"."organizations" SET (fillfactor = 70);
--> statement-breakpoint
-- last_active_at changes with nearly every session event, and being in this index it made every
-- session upsert a non-HOT update. A user has few sessions: the index on user_id finds them, and
-- ordering that handful by activity needs no index.
DROP INDEX "clerk"."sessions_user_id_idx";
--> statement-breakpoint
CREATE INDEX "sessions_user_id_idx" ON "clerk"."sessions" USING btree ("user_id");
