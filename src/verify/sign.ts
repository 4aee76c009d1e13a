/**
 * The sending side of the signature scheme, for tests, the dev-mode sender and fixtures replay. It lives next
 * to the verifier so both halves of the format are defined in one place and cannot drift apart.
 */

import { createHmac } from 'node:crypto';
import { ClerkSyncError } from '../core/errors.js';
import { parseSigningSecrets, type SigningKey } from './secrets.js';

function toKey(secret: string | SigningKey): SigningKey {
  if (typeof secret !== 'string') return secret;
  const keys = parseSigningSecrets(secret);
  if (keys.length !== 1) {
    throw new ClerkSyncError('invalid_secret', `Signing needs exactly one secret, got ${keys.length}`);
  }
  return keys[0]!;
}

/** Signature header value `v1,<base64>` for (id, timestamp seconds, body bytes or string) with a whsec_ secret (or SigningKey). */
export function signPayload(args: {
  id: string;
  timestamp: number;
  body: Uint8Array | string;
  secret: string | SigningKey;
}): string {
  // A fractional or millisecond-looking value would produce a header no verifier accepts; fail at the source.
  if (!Number.isSafeInteger(args.timestamp) || args.timestamp < 0) {
    throw new RangeError('timestamp must be a non-negative integer number of seconds');
  }
  // The id is deliberately not validated, so tests can sign deliveries that the verifier must reject.
  const mac = createHmac('sha256', toKey(args.secret).key)
    .update(`${args.id}.${args.timestamp}.`)
    .update(args.body)
    .digest('base64');
  return `v1,${mac}`;
}

/** Headers a sender would set: { 'svix-id', 'svix-timestamp', 'svix-signature', 'content-type': 'application/json' }; with `prefix: 'webhook'` uses webhook-* names. */
export function signedHeaders(args: {
  id: string;
  timestamp: number;
  body: Uint8Array | string;
  secret: string;
  prefix?: 'svix' | 'webhook';
}): Record<string, string> {
  const prefix = args.prefix ?? 'svix';
  return {
    [`${prefix}-id`]: args.id,
    [`${prefix}-timestamp`]: String(args.timestamp),
    [`${prefix}-signature`]: signPayload(args),
    'content-type': 'application/json',
  };
}
