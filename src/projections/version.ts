/**
 * The ordering key of an event (contract, DESIGN.md "Ordering and convergence"):
 * (version, envelope timestamp, svix id), compared in that order. version is `data.updated_at`
 * where the payload has one, else the envelope timestamp. Every time is normalised to
 * milliseconds because Clerk's documented examples carry the envelope timestamp in seconds while
 * real deliveries carry milliseconds.
 */
import type { StoredEvent } from './types.js';

/** Below 10^12 a Unix time is in seconds (10^12 ms is 2001-09-09, 10^12 s is far in the future). */
export function toMillis(value: unknown): number | null {
  const n = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return null;
  return Math.trunc(n < 1e12 ? n * 1000 : n);
}

export interface OrderingKey {
  version: number;
  eventTs: number;
  eventId: string;
}

export function envelopeMillis(event: StoredEvent): number | null {
  return event.clerkTimestamp ?? toMillis(event.payload.timestamp);
}

export function orderingKey(event: StoredEvent): OrderingKey {
  const eventTs = envelopeMillis(event) ?? 0;
  const version = toMillis(event.payload.data.updated_at) ?? eventTs;
  return { version, eventTs, eventId: event.id };
}

/** Negative when a loses to b. Mirrors the row comparison in the upsert's guard (text compared by code point under "C" collation). */
export function compareKeys(a: OrderingKey, b: OrderingKey): number {
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  if (a.eventTs !== b.eventTs) return a.eventTs < b.eventTs ? -1 : 1;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}
