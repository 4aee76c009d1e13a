/**
 * Internal tables: the inbox of received deliveries and the outbox of side effects.
 * Internal means apps should not write to them; reading them (e.g. for dashboards) is fine.
 */
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { clerk } from './clerk-schema.js';

export const EVENT_STATUSES = ['pending', 'applied', 'stale', 'ignored', 'failed', 'dead'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export const webhookEvents = clerk.table(
  'webhook_events',
  {
    /** The svix id (msg_…) of the delivery, or `backfill:<type>:<id>:<version>` for backfilled data. */
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    /** The envelope's `timestamp`, normalised to milliseconds. */
    clerkTimestamp: bigint('clerk_timestamp', { mode: 'number' }),
    instanceId: text('instance_id'),
    payload: jsonb('payload').notNull(),
    /** sha256 of the raw body, no longer written: a redelivery is compared with `payload` itself. Kept for rows of earlier versions; a later migration drops it. */
    bodySha256: text('body_sha256'),
    source: text('source').notNull().default('webhook'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    status: text('status', { enum: EVENT_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    appliedAt: timestamp('applied_at', { withTimezone: true }),
    /** The worker loop that last claimed the event, so it can hand back a claim whose answer it never got. */
    claimedBy: text('claimed_by'),
  },
  (t) => [
    check('webhook_events_status_check', sql`${t.status} in ('pending', 'applied', 'stale', 'ignored', 'failed', 'dead')`),
    // The worker's claim query scans only work that is due; applied rows are out of this index.
    index('webhook_events_due_idx').on(t.nextAttemptAt).where(sql`${t.status} in ('pending', 'failed')`),
    index('webhook_events_type_received_idx').on(t.type, t.receivedAt),
    index('webhook_events_received_idx').on(t.receivedAt),
  ],
);

export const OUTBOX_STATUSES = ['pending', 'sent', 'failed', 'dead'] as const;

export const outbox = clerk.table(
  'outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** The inbox event that caused this effect. */
    eventId: text('event_id'),
    kind: text('kind').notNull(),
    /** What the effect is about (a user id for a welcome email): at most one row per (kind, key). */
    key: text('key').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status', { enum: OUTBOX_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** Set by a claim, cleared when its outcome is recorded: still set at the next claim, the last send's fate is unknown. */
    sendingSince: timestamp('sending_since', { withTimezone: true }),
    /** Set when retention dropped the payload of this sent row; the row stays so (kind, key) is never sent twice. */
    prunedAt: timestamp('pruned_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('outbox_kind_key_idx').on(t.kind, t.key),
    index('outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.status} in ('pending', 'failed')`),
    index('outbox_prunable_idx').on(t.sentAt).where(sql`${t.status} = 'sent' and ${t.prunedAt} is null`),
    check('outbox_status_check', sql`${t.status} in ('pending', 'sent', 'failed', 'dead')`),
  ],
);
