/**
 * Webhook authenticity check (Standard Webhooks v1 / Svix), run on every delivery before anything else looks
 * at the body. It is a pure, synchronous function of (headers, raw body bytes, keys, clock) so the HTTP layers,
 * the CLI and tests all share exactly one implementation, and so it stays cheap at thousands of requests/s.
 * Failures are returned, not thrown: a bad delivery is an expected outcome, and the reason maps 1:1 to an
 * error code in core/errors.ts. Messages never contain the signature, body or secret (they are logged and
 * sent back to the caller).
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { ClerkSyncError } from '../core/errors.js';
import type { SigningKey } from './secrets.js';

/** Case-insensitive header getter supplied by the caller (adapters differ in how they expose headers). */
export type HeaderLookup = (name: string) => string | null | undefined;

export type VerifyFailureReason =
  | 'missing_headers'
  | 'invalid_id'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'invalid_signature';

export type VerifyResult =
  | { ok: true; id: string; timestamp: number /* seconds */ }
  | { ok: false; reason: VerifyFailureReason; message: string };

export interface VerifyInput {
  body: Uint8Array;
  header: HeaderLookup;
  keys: readonly SigningKey[];
  nowSeconds: number;
  /** default 300 */
  toleranceSeconds?: number;
}

const DEFAULT_TOLERANCE_SECONDS = 300;
// The id becomes a storage key (deduplication), so it is bounded even though Standard Webhooks allows any string.
const MAX_ID_LENGTH = 256;
const ID_CHARS = /^[\x21-\x7e]+$/;
// At most 15 digits keeps the value an exact integer in a double; signs, spaces, exponents and fractions
// are rejected outright rather than "parsed leniently" like parseInt would.
const TIMESTAMP = /^[0-9]{1,15}$/;
// One `v1,<sig>` entry whose signature is the canonical padded base64 of exactly 32 bytes (the last data
// character must have its 2 unused bits zero). Requiring the canonical form makes us agree with the svix and
// standardwebhooks libraries, which compare the base64 text, whereas Node's decoder alone would also accept
// unpadded or bit-twiddled variants of a valid signature.
const V1_ENTRY = /^v1,[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const V1_ENTRY_LENGTH = 3 + 44;

interface HeaderFamily {
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
}
const SVIX: HeaderFamily = { id: 'svix-id', timestamp: 'svix-timestamp', signature: 'svix-signature' };
const WEBHOOK: HeaderFamily = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' };

function isBlank(value: string | null | undefined): value is null | undefined | '' {
  return value == null || value.length === 0 || value.trim().length === 0;
}

function fail(reason: VerifyFailureReason, message: string): VerifyResult {
  return { ok: false, reason, message };
}

export function verifyWebhook(input: VerifyInput): VerifyResult {
  const { body, header, keys } = input;
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  // These are programming/configuration errors, not bad deliveries, so they throw instead of returning a reason.
  if (keys.length === 0) {
    throw new ClerkSyncError('secret_not_configured', 'verifyWebhook was called without any signing key');
  }
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new ClerkSyncError('invalid_config', 'toleranceSeconds must be a finite number >= 0');
  }
  if (!Number.isFinite(input.nowSeconds)) {
    throw new RangeError('nowSeconds must be a finite number of seconds');
  }
  // Whole seconds, like the reference implementations (they floor Date.now()/1000).
  const now = Math.floor(input.nowSeconds);

  // Headers: all three from one family. svix-* wins; webhook-* is the vendor-neutral Standard Webhooks spelling.
  let family = SVIX;
  let id = header(SVIX.id);
  if (isBlank(id)) {
    const webhookId = header(WEBHOOK.id);
    if (!isBlank(webhookId)) {
      family = WEBHOOK;
      id = webhookId;
    } else if (
      isBlank(header(SVIX.timestamp)) &&
      isBlank(header(SVIX.signature)) &&
      (!isBlank(header(WEBHOOK.timestamp)) || !isBlank(header(WEBHOOK.signature)))
    ) {
      // Only so the message names the family the sender was evidently using.
      family = WEBHOOK;
    }
  }
  const timestampText = header(family.timestamp);
  const signatureText = header(family.signature);
  if (isBlank(id) || isBlank(timestampText) || isBlank(signatureText)) {
    const missing: string[] = [];
    if (isBlank(id)) missing.push(family.id);
    if (isBlank(timestampText)) missing.push(family.timestamp);
    if (isBlank(signatureText)) missing.push(family.signature);
    const alternative =
      missing.length === 3 ? ` (or ${WEBHOOK.id}, ${WEBHOOK.timestamp}, ${WEBHOOK.signature})` : '';
    return fail('missing_headers', `Missing or empty webhook header(s): ${missing.join(', ')}${alternative}`);
  }

  if (id.length > MAX_ID_LENGTH) {
    return fail('invalid_id', `The ${family.id} header is ${id.length} characters long; at most ${MAX_ID_LENGTH} are allowed`);
  }
  if (!ID_CHARS.test(id)) {
    return fail('invalid_id', `The ${family.id} header must be printable ASCII without spaces`);
  }

  if (!TIMESTAMP.test(timestampText)) {
    return fail('invalid_timestamp', `The ${family.timestamp} header must be an integer number of seconds (1 to 15 digits, nothing else)`);
  }
  const timestamp = Number(timestampText);
  if (now - timestamp > tolerance) {
    return fail('timestamp_too_old', `The ${family.timestamp} header is ${now - timestamp} s in the past; the tolerance is ${tolerance} s`);
  }
  if (timestamp - now > tolerance) {
    return fail('timestamp_too_new', `The ${family.timestamp} header is ${timestamp - now} s in the future; the tolerance is ${tolerance} s`);
  }

  // Decode the candidate v1 signatures once; other versions (v1a = ed25519, v2, …) and malformed entries are ignored.
  const candidates: Buffer[] = [];
  for (const entry of signatureText.split(' ')) {
    if (entry.length === V1_ENTRY_LENGTH && V1_ENTRY.test(entry)) {
      candidates.push(Buffer.from(entry.slice(3), 'base64'));
    }
  }
  if (candidates.length === 0) {
    return fail('invalid_signature', `The ${family.signature} header has no well-formed v1 signature`);
  }

  // The signed content is utf8(id + "." + timestamp + ".") followed by the raw body bytes, exactly as received
  // (the header's timestamp text, not a re-formatted number). Two update() calls avoid concatenating the body.
  const prefix = `${id}.${timestampText}.`;
  for (const key of keys) {
    const expected = createHmac('sha256', key.key).update(prefix).update(body).digest();
    for (const candidate of candidates) {
      if (timingSafeEqual(expected, candidate)) {
        return { ok: true, id, timestamp };
      }
    }
  }
  return fail(
    'invalid_signature',
    `No v1 signature in ${family.signature} matches the body with any of the ${keys.length} configured signing secret(s)`,
  );
}
