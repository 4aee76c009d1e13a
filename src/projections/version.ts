/**
 * The ordering key of an event (contract, DESIGN.md "Ordering and convergence"):
 * (version, envelope timestamp, svix id), compared in that order. version is `data.updated_at`
 * where the payload has one, else the envelope timestamp. Every time is normalised to
 * milliseconds because Clerk's documented examples carry the envelope timestamp in seconds while
 * real deliveries carry milliseconds.
 *
 * A version is bounded by the envelope timestamp plus FUTURE_TOLERANCE_MS: an object is updated
 * before its event is made, so an `updated_at` beyond that is a broken clock or broken data, and
 * unbounded it would win against every later update forever (an `updated_at` in year 9999).
 * The bound is read from the event alone, so every delivery order still converges.
 */
import type { StoredEvent } from './types.js';

/** Below 10^12 a Unix time is in seconds (10^12 ms is 2001-09-09, 10^12 s is far in the future). */
export function toMillis(value: unknown): number | null {
  const n = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return null;
  return Math.trunc(n < 1e12 ? n * 1000 : n);
}

/**
 * How far `updated_at` may run ahead of the envelope timestamp before it is not believed. Clerk
 * stamps both on its own servers (`updated_at` first), so a real event is ahead only by clock
 * skew between those servers and by the envelope's seconds being truncated (Clerk's examples);
 * backfill compares `updated_at` with this process's clock (synthetic.ts). Five minutes is the
 * skew Standard Webhooks allows a signature's timestamp; it is also the longest a far-future
 * version can keep a row from taking real updates.
 */
export const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

export interface OrderingKey {
  version: number;
  eventTs: number;
  eventId: string;
  /** Set when `updated_at` was beyond the envelope timestamp plus the tolerance: its value, in ms. */
  clampedFrom?: number;
}

export function envelopeMillis(event: StoredEvent): number | null {
  return event.clerkTimestamp ?? toMillis(event.payload.timestamp);
}

/**
 * An event without an envelope timestamp (never one of Clerk's; hand-made ones) has nothing to
 * bound its version by: the upsert's guard still lets any event replace a row whose version is
 * beyond the database's clock plus the tolerance (projection.ts).
 */
export function orderingKey(event: StoredEvent): OrderingKey {
  const envelope = envelopeMillis(event);
  const eventTs = envelope ?? 0;
  const updatedAt = toMillis(event.payload.data.updated_at);
  if (updatedAt === null) return { version: eventTs, eventTs, eventId: event.id };
  const bound = envelope === null ? Infinity : envelope + FUTURE_TOLERANCE_MS;
  if (updatedAt > bound) return { version: bound, eventTs, eventId: event.id, clampedFrom: updatedAt };
  return { version: updatedAt, eventTs, eventId: event.id };
}

/** Negative when a loses to b. Mirrors the row comparison in the upsert's guard (text compared by code point under "C" collation). */
export function compareKeys(a: OrderingKey, b: OrderingKey): number {
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  if (a.eventTs !== b.eventTs) return a.eventTs < b.eventTs ? -1 : 1;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}
