/**
 * The shapes the projection stage shares with its callers (the worker, inline apply, backfill,
 * tests). Leaf module: imports only the database port.
 */
import type { Queryable } from '../core/db.js';
import type { Logger } from '../core/logger.js';
import type { Hooks } from './hooks.js';
import type { ProjectionRegistry } from './registry.js';

/** One row of the inbox, as the projections need it. */
export interface StoredEvent {
  /** The svix id (inbox primary key). */
  id: string;
  type: string;
  /** The envelope's timestamp in milliseconds (already normalised), when known. */
  clerkTimestamp: number | null;
  payload: { type: string; data: Record<string, unknown>; timestamp?: number; [k: string]: unknown };
  source: 'webhook' | 'backfill';
}

/** applied: the event changed a row; stale: a newer version (or an equal tombstone) was already there; ignored: unknown type. */
export type ApplyStatus = 'applied' | 'stale' | 'ignored';

export interface ApplyContext {
  /** The Postgres schema of the clerk-sync tables (default deployments: `clerk`). */
  schema: string;
  deleteMode: 'soft' | 'scrub';
  hooks?: Hooks;
  /** Which event types are projected, and how. Defaults to every projection clerk-sync ships. */
  registry?: ProjectionRegistry;
  /** Told (at warn) of each event whose `updated_at` was beyond its envelope timestamp and was bounded (version.ts). */
  logger?: Pick<Logger, 'warn'>;
}

/** What a hook learns about the apply it runs in, beyond the event itself. */
export interface HookContext {
  status: ApplyStatus;
  schema: string;
}

/**
 * User code that runs inside the apply transaction: when it throws, the projection and the inbox
 * mark roll back together and the event is retried. Hooks run for every event handed to
 * applyEvent, stale ones included, so they must be idempotent; the robust recipe is to re-read the
 * (already updated) projection rows in `tx` rather than trusting the event alone.
 */
export type Hook = (event: StoredEvent, tx: Queryable, context: HookContext) => Promise<void> | void;

/** The payload does not fit its event type (no id, wrong shape): retrying cannot help, so the worker dead-letters it. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
  readonly eventType: string;
  constructor(eventType: string, message: string) {
    super(`${eventType}: ${message}`);
    this.eventType = eventType;
  }
}
