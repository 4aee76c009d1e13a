/**
 * Turns verified bytes into an inbox item: the body must be UTF-8 JSON of the shape of a Clerk
 * event (an object with a string `type` and an object `data`) that Postgres' jsonb can store.
 */
import type { InboxItem } from '../inbox/enqueue.js';

export type ParsedEvent = { ok: true; item: InboxItem } | { ok: false; code: 'invalid_json' | 'invalid_event'; message: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Clerk's examples carry the envelope timestamp in seconds, real deliveries in milliseconds. */
export function normaliseTimestamp(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return null;
  return Math.trunc(value < 1e12 ? value * 1000 : value);
}

/** The latest instant a JavaScript Date (and so clerk-sync's timestamps) can hold, in ms. */
const MAX_TIME_MS = 8.64e15;

// jsonb's numeric holds up to 131072 digits before the point and 16383 after: a number beyond
// (1e999999) is refused by Postgres. Found here as a 400; a quick test spares the common body.
const LONG_EXPONENT = /[eE][+-]?\d{5,}/;
// Strings are matched whole (and skipped) so that "1e99999" inside one is not a number.
const NUMBER_TOKENS = /"(?:[^"\\]|\\.)*"|-?(\d+)(?:\.(\d+))?[eE]([+-]?\d+)/g;

function hasNumberPostgresRefuses(text: string): boolean {
  if (!LONG_EXPONENT.test(text)) return false;
  for (const m of text.matchAll(NUMBER_TOKENS)) {
    if (m[3] === undefined) continue;
    const digits = (m[1]! + (m[2] ?? '')).replace(/^0+/, '');
    if (digits === '') continue; // zero, whatever the exponent
    const magnitude = Number(m[3]) + m[1]!.replace(/^0+/, '').length - 1;
    if (magnitude >= 131072 || magnitude < -16383) return true;
  }
  return false;
}

// jsonb refuses \u0000 and unpaired surrogates; catch them here as a 400, not a database error.
const JSONB_UNSAFE_ESCAPE = /\\u(0000|d[89a-f][0-9a-f]{2})/i;

function hasJsonbUnsafeString(value: unknown): boolean {
  if (typeof value === 'string') return /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
  if (Array.isArray(value)) return value.some(hasJsonbUnsafeString);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => hasJsonbUnsafeString(k) || hasJsonbUnsafeString(v));
  return false;
}

export function parseEvent(id: string, body: Uint8Array): ParsedEvent {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { ok: false, code: 'invalid_json', message: 'The body is not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'invalid_json', message: 'The body is not valid JSON' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, code: 'invalid_event', message: 'The body must be a JSON object' };
  }
  const event = value as Record<string, unknown>;
  if (typeof event.type !== 'string' || event.type.length === 0 || event.type.length > 200) {
    return { ok: false, code: 'invalid_event', message: 'The event has no string "type"' };
  }
  if (!event.data || typeof event.data !== 'object' || Array.isArray(event.data)) {
    return { ok: false, code: 'invalid_event', message: 'The event has no object "data"' };
  }
  const timestamp = event.timestamp;
  if (timestamp !== undefined && timestamp !== null && (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || Math.abs(timestamp < 1e12 ? timestamp * 1000 : timestamp) > MAX_TIME_MS)) {
    return { ok: false, code: 'invalid_event', message: 'The event "timestamp" is not a time (a number of milliseconds up to year 275760)' };
  }
  if (hasNumberPostgresRefuses(text)) {
    return { ok: false, code: 'invalid_json', message: 'The body holds a number beyond what PostgreSQL can store (an exponent past 131071 or -16383)' };
  }
  if (JSONB_UNSAFE_ESCAPE.test(text) && hasJsonbUnsafeString(value)) {
    return { ok: false, code: 'invalid_json', message: 'The body contains a \\u0000 or an unpaired surrogate, which PostgreSQL cannot store' };
  }
  return {
    ok: true,
    item: {
      id,
      type: event.type,
      clerkTimestamp: normaliseTimestamp(event.timestamp),
      instanceId: typeof event.instance_id === 'string' ? event.instance_id : null,
      payload: text,
      parsed: event as { type: string; data: Record<string, unknown> },
    },
  };
}
