/**
 * Tests of secret parsing: what operators may write in CLERK_WEBHOOK_SIGNING_SECRET, and that every
 * rejection says which secret and what is wrong without ever echoing the secret into logs.
 */

import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { ClerkSyncError } from '../core/errors.js';
import { generateSigningSecret, parseSigningSecrets } from './secrets.js';

const A = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'; // 24-byte key, no padding
const B = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'; // contains '+'
const C = 'whsec_dGVzdF9zaWduaW5nX3NlY3JldF8zMl9jaGFyc19sb25n'; // 33-byte key, no padding
const PADDED = `whsec_${Buffer.from('0123456789abcdefghij').toString('base64')}`; // 20 bytes -> one '='

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

/** Expect invalid_secret, return the message. */
function rejection(input: string | readonly string[]): string {
  try {
    parseSigningSecrets(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ClerkSyncError);
    expect((error as ClerkSyncError).code).toBe('invalid_secret');
    expect((error as ClerkSyncError).status).toBe(500);
    return (error as ClerkSyncError).message;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseSigningSecrets: accepted input', () => {
  it('decodes whsec_ + base64 into key bytes with a sha256 fingerprint', () => {
    const [key, ...rest] = parseSigningSecrets(A);
    expect(rest).toEqual([]);
    expect(key!.key).toEqual(keyOf(A));
    expect(key!.key.length).toBe(24);
    expect(key!.fingerprint).toBe(createHash('sha256').update(keyOf(A)).digest('hex').slice(0, 8));
    expect(key!.fingerprint).toMatch(/^[0-9a-f]{8}$/);
  });

  it('accepts padded base64 and longer keys', () => {
    expect(parseSigningSecrets(PADDED)[0]!.key.toString()).toBe('0123456789abcdefghij');
    expect(parseSigningSecrets(C)[0]!.key.length).toBe(33);
  });

  it('accepts short keys (the Svix docs example uses an 18-byte key)', () => {
    expect(parseSigningSecrets('whsec_plJ3nmyCDGBKInavdOK15jsl')[0]!.key.length).toBe(18);
    expect(parseSigningSecrets('whsec_AA==')[0]!.key).toEqual(Buffer.from([0]));
  });

  for (const [label, input] of [
    ['spaces', `${A} ${B} ${C}`],
    ['commas', `${A},${B},${C}`],
    ['comma and space', `${A}, ${B}, ${C}`],
    ['newlines and surrounding whitespace', `\n  ${A}\n${B}\t${C}\n`],
    ['an array', [A, B, C]],
    ['an array of lists', [`${A}, ${B}`, ` ${C} `]],
  ] as const) {
    it(`accepts several secrets separated by ${label}, in order`, () => {
      const keys = parseSigningSecrets(input);
      expect(keys.map((k) => k.key)).toEqual([keyOf(A), keyOf(B), keyOf(C)]);
      expect(new Set(keys.map((k) => k.fingerprint)).size).toBe(3);
    });
  }
});

describe('parseSigningSecrets: rejected input', () => {
  for (const input of ['', '   ', ' , ,', [], ['', ' ']] as const) {
    it(`rejects ${JSON.stringify(input)} as no secret given`, () => {
      expect(rejection(input)).toMatch(/no secret given/);
    });
  }

  const bad: [label: string, secret: string, pattern: RegExp][] = [
    ['a missing prefix', A.slice('whsec_'.length), /missing the whsec_ prefix/],
    ['a wrong-case prefix', `WHSEC_${A.slice(6)}`, /missing the whsec_ prefix/],
    ['a Clerk API key', 'sk_test_Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA', /Clerk API secret key/],
    ['an asymmetric key', 'whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==', /asymmetric/],
    ['an empty key', 'whsec_', /empty key/],
    ['bad base64 characters', 'whsec_MfKQ9r8GKYqrTwjU$D8ILPZIo2LaLaSw', /not valid base64: contains a character/],
    ['a space-free but non-ASCII character', 'whsec_MfKQ9r8GKYqrTwjUé8ILPZIo2LaLaSw', /not valid base64: contains a character/],
    ['URL-safe base64', 'whsec_C2FVsBQIhrscChlQIMV-b5sSYspob7oD', /URL-safe/],
    ['missing padding', `whsec_${Buffer.from('0123456789abcdefghij').toString('base64').replace(/=+$/, '')}`, /wrong length or padding/],
    ['a length that is not a multiple of 4', 'whsec_MfKQ9', /wrong length or padding/],
    ['too much padding', 'whsec_MfKQ====', /wrong length or padding/],
    ['padding in the middle', 'whsec_Mf==9r8G', /wrong length or padding/],
    ['padding only', 'whsec_====', /wrong length or padding/],
    ['non-canonical trailing bits', 'whsec_YR==', /non-canonical/],
  ];
  for (const [label, secret, pattern] of bad) {
    it(`rejects ${label} without echoing the secret`, () => {
      const message = rejection(secret);
      expect(message).toMatch(pattern);
      expect(message).toMatch(/secret #1\b/);
      const material = secret.replace(/^whsec_/, '');
      if (material.length > 0) expect(message).not.toContain(secret);
      if (material.length >= 4) expect(message).not.toContain(material);
      // No 6-character run of the secret appears either (guards against partial echoes).
      for (let i = 0; i + 6 <= secret.length; i++) {
        const run = secret.slice(i, i + 6);
        if (run !== 'whsec_' && !/^[a-z_ ]+$/.test(run)) expect(message).not.toContain(run);
      }
    });
  }

  it('names the position of the bad secret in a list', () => {
    expect(rejection(`${A}, whsec_bad$, ${B}`)).toMatch(/secret #2\b/);
    expect(rejection([A, B, 'nope'])).toMatch(/secret #3\b/);
    expect(rejection([`${A} ${B}`, 'whsec_'])).toMatch(/secret #3\b/);
  });

  it('rejects a non-string entry (e.g. from untyped config)', () => {
    expect(rejection([A, 42 as unknown as string])).toMatch(/strings/);
  });
});

describe('generateSigningSecret', () => {
  it('makes a whsec_ secret of 32 random bytes that parses back', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const [key] = parseSigningSecrets(secret);
    expect(key!.key.length).toBe(32);
    expect(generateSigningSecret()).not.toBe(secret);
  });
});
