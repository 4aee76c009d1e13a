/**
 * Turns verified bytes into an inbox item: the body must be UTF-8 JSON of the shape of a Clerk
 * event (an object with a string `type` and an object `data`) that Postgres' jsonb can store.
 */
import { createHash } from 'node:crypto';
import type { InboxItem } from '../inbox/enqueue.js';

export type ParsedEvent = { ok: true; item: InboxItem } | { ok: false; code: 'invalid_json' | 'invalid_event'; message: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Clerk's examples carry the envelope timestamp in seconds, real deliveries in milliseconds. */
export function normaliseTimestamp(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return null;
  return Math.trunc(value < 1e12 ? value * 1000 : value);
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
      bodySha256: createHash('sha256').update(body).digest('hex'),
    },
  };
}
