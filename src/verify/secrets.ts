/**
 * Webhook signing secrets: the one place that turns operator-supplied `whsec_…` strings into key bytes.
 * Parsing is strict and happens once at start-up, so a typo fails loudly then instead of as a stream of
 * 400s at request time; error messages point at the bad secret by position and never echo it, because
 * they end up in logs.
 */

import { createHash, randomBytes } from 'node:crypto';
import { ClerkSyncError } from '../core/errors.js';

export interface SigningKey {
  key: Buffer;
  /** short non-secret fingerprint for logs: first 8 hex of sha256(key) */
  fingerprint: string;
}

const PREFIX = 'whsec_';

// Whitespace (not just ' ') because secrets often come from env files or mounted files with a trailing newline.
const SEPARATORS = /[\s,]+/;

// Standard alphabet, padded to a multiple of 4. The round-trip check below additionally rejects
// non-canonical encodings (non-zero unused bits), which Node's lenient decoder would silently accept.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_CHARS = /^[A-Za-z0-9+/=]*$/;

/**
 * Parse one or more secrets: a string with several separated by spaces and/or commas, or an array of such strings.
 * Several secrets exist for rotation: a delivery is accepted if it matches any of them.
 * Throws ClerkSyncError('invalid_secret') naming the position ("secret #2") and the problem, never the secret.
 */
export function parseSigningSecrets(input: string | readonly string[]): SigningKey[] {
  const parts = typeof input === 'string' ? [input] : input;
  const tokens: string[] = [];
  for (const part of parts) {
    if (typeof part !== 'string') {
      throw new ClerkSyncError('invalid_secret', 'Webhook signing secrets must be strings');
    }
    for (const token of part.split(SEPARATORS)) {
      if (token !== '') tokens.push(token);
    }
  }
  if (tokens.length === 0) {
    throw new ClerkSyncError('invalid_secret', 'Invalid webhook signing secret: no secret given');
  }
  return tokens.map((token, index) => parseOne(token, index + 1));
}

function parseOne(token: string, position: number): SigningKey {
  const fail = (what: string): never => {
    throw new ClerkSyncError('invalid_secret', `Invalid webhook signing secret #${position}: ${what}`);
  };
  if (!token.startsWith(PREFIX)) {
    // Hints name only well-known public prefixes, so they reveal nothing about the secret.
    let hint = '';
    if (token.startsWith('whsk_') || token.startsWith('whpk_')) {
      hint = ' (asymmetric whsk_/whpk_ keys are not supported; use the whsec_ signing secret)';
    } else if (token.startsWith('sk_')) {
      hint = ' (this looks like a Clerk API secret key, not a webhook signing secret)';
    }
    return fail(`missing the whsec_ prefix${hint}`);
  }
  const b64 = token.slice(PREFIX.length);
  if (b64 === '') return fail('empty key after the whsec_ prefix');
  if (!BASE64_CHARS.test(b64)) {
    const urlSafe = /[-_]/.test(b64) ? ' (URL-safe base64 with - or _ is not accepted)' : '';
    return fail(`not valid base64: contains a character outside the standard alphabet A-Z a-z 0-9 + / =${urlSafe}`);
  }
  if (!STRICT_BASE64.test(b64)) {
    return fail(`not valid base64: wrong length or padding (${b64.length} characters after whsec_; must be a multiple of 4 with = padding only at the end)`);
  }
  const key = Buffer.from(b64, 'base64');
  if (key.length === 0) return fail('empty key after the whsec_ prefix');
  if (key.toString('base64') !== b64) return fail('not valid base64: non-canonical encoding (the last character has unused bits set)');
  return { key, fingerprint: fingerprintOf(key) };
}

function fingerprintOf(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** Generate a new random secret string `whsec_<base64 of 32 random bytes>` (dev mode). */
export function generateSigningSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}
