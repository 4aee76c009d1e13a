/**
 * Cross-checks against the reference implementations (the `svix` package, which Clerk's own SDK builds on, and
 * `standardwebhooks`) on random inputs, so "compatible with Svix" is tested rather than assumed.
 *
 * Known, modelled divergence: both libraries take the payload as string | Buffer and turn a Buffer into a string
 * (`payload.toString()`, i.e. UTF-8 decoding with U+FFFD replacement) before signing or verifying. For bodies that
 * are not valid UTF-8 they therefore sign/verify different bytes than were sent; we always use the raw bytes. The
 * properties below state that exactly (via `theirBytes`) instead of restricting bodies to UTF-8.
 * svix (through standardwebhooks 1.0.0) also JSON.parses the body after a match, so a SyntaxError from it
 * means "signature accepted".
 */

import { isUtf8 } from 'node:buffer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { Webhook as SvixWebhook, WebhookVerificationError as SvixVerificationError } from 'svix';
import { Webhook as StdWebhook, WebhookVerificationError as StdVerificationError } from 'standardwebhooks';
import { parseSigningSecrets, signPayload, verifyWebhook, type VerifyResult } from './index.js';

const NOW = 1_700_000_000;
const RUNS = { numRuns: 200 };

beforeAll(() => {
  // Both libraries read Date.now(); only Date is faked so nothing else about timers changes.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW * 1000);
});
afterAll(() => {
  vi.useRealTimers();
});

// --- arbitraries -----------------------------------------------------------------------------------------------

const svixLikeId = fc.stringMatching(/^msg_[A-Za-z0-9]{20,32}$/);
const anyValidId = fc.stringMatching(/^[\x21-\x7e]{1,256}$/);
const idArb = fc.oneof(svixLikeId, anyValidId);
const offsetArb = fc.integer({ min: -300, max: 300 });
const bodyArb = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.string({ unit: 'binary', maxLength: 100 }).map((s) => Buffer.from(s, 'utf8')),
  fc.json().map((s) => Buffer.from(s, 'utf8')),
);
const secretArb = fc.uint8Array({ minLength: 24, maxLength: 64 }).map((b) => `whsec_${Buffer.from(b).toString('base64')}`);

interface Case {
  id: string;
  timestamp: number;
  body: Buffer;
  secret: string;
}
const caseArb: fc.Arbitrary<Case> = fc.record({
  id: idArb,
  timestamp: offsetArb.map((o) => NOW + o),
  body: bodyArb,
  secret: secretArb,
});

// --- helpers ---------------------------------------------------------------------------------------------------

/** The bytes the JS reference libraries actually sign/verify for a Buffer payload. */
function theirBytes(body: Buffer): Buffer {
  return Buffer.from(body.toString('utf8'), 'utf8');
}

function ours(c: Case, signature: string, overrides: { body?: Buffer; timestamp?: string; id?: string } = {}): VerifyResult {
  const headers: Record<string, string> = {
    'svix-id': overrides.id ?? c.id,
    'svix-timestamp': overrides.timestamp ?? String(c.timestamp),
    'svix-signature': signature,
  };
  return verifyWebhook({
    body: overrides.body ?? c.body,
    header: (name) => headers[name],
    keys: parseSigningSecrets(c.secret),
    nowSeconds: NOW,
  });
}

function svixAccepts(secret: string, body: Buffer, headers: Record<string, string>): boolean {
  try {
    new SvixWebhook(secret).verify(body, headers);
    return true;
  } catch (error) {
    if (error instanceof SvixVerificationError) return false;
    if (error instanceof SyntaxError) return true; // signature matched, then JSON.parse of the body failed
    throw error;
  }
}

function stdAccepts(secret: string, body: Buffer, headers: Record<string, string>): boolean {
  try {
    new StdWebhook(secret).verify(body, headers, { jsonParse: false });
    return true;
  } catch (error) {
    if (error instanceof StdVerificationError) return false;
    throw error;
  }
}

function bothAccept(c: Case, signature: string, overrides: { body?: Buffer; timestamp?: string; id?: string } = {}): [boolean, boolean] {
  const id = overrides.id ?? c.id;
  const timestamp = overrides.timestamp ?? String(c.timestamp);
  const body = overrides.body ?? c.body;
  return [
    svixAccepts(c.secret, body, { 'svix-id': id, 'svix-timestamp': timestamp, 'svix-signature': signature }),
    stdAccepts(c.secret, body, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature }),
  ];
}

// --- properties ------------------------------------------------------------------------------------------------

describe('cross-check with svix and standardwebhooks', () => {
  it('the fake clock is what the libraries see', () => {
    expect(Math.floor(Date.now() / 1000)).toBe(NOW);
  });

  it('(a) what they sign, we accept (over the bytes they signed)', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const date = new Date(c.timestamp * 1000);
        const svixSig = new SvixWebhook(c.secret).sign(c.id, date, c.body);
        const stdSig = new StdWebhook(c.secret).sign(c.id, date, c.body);
        expect(stdSig).toBe(svixSig);
        expect(ours(c, svixSig, { body: theirBytes(c.body) })).toEqual({ ok: true, id: c.id, timestamp: c.timestamp });
        // For the raw body this holds exactly when the body is valid UTF-8 (always the case for Svix deliveries).
        expect(ours(c, svixSig).ok).toBe(isUtf8(c.body));
      }),
      RUNS,
    );
  });

  it('(b) what we sign, they accept (whenever the body is valid UTF-8)', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const sig = signPayload({ id: c.id, timestamp: c.timestamp, body: c.body, secret: c.secret });
        expect(ours(c, sig).ok).toBe(true);
        expect(bothAccept(c, sig)).toEqual([isUtf8(c.body), isUtf8(c.body)]);
      }),
      RUNS,
    );
  });

  it('(c) a tampered body is rejected by us and by them', () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        (c, position, xor, append) => {
          const sig = signPayload({ id: c.id, timestamp: c.timestamp, body: c.body, secret: c.secret });
          let tampered: Buffer;
          if (append || c.body.length === 0) {
            tampered = Buffer.concat([c.body, Buffer.from([xor])]);
          } else {
            tampered = Buffer.from(c.body);
            const i = position % tampered.length;
            tampered[i] = tampered[i]! ^ xor;
          }
          expect(ours(c, sig, { body: tampered })).toMatchObject({ ok: false, reason: 'invalid_signature' });
          // They would only accept if their lossy decoding mapped the tampered body back onto the signed bytes.
          const theyShould = theirBytes(tampered).equals(c.body);
          expect(bothAccept(c, sig, { body: tampered })).toEqual([theyShould, theyShould]);
        },
      ),
      RUNS,
    );
  });

  it('(c) a tampered signature is rejected by us and by them', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    fc.assert(
      fc.property(
        caseArb.filter((c) => isUtf8(c.body)),
        fc.nat({ max: 42 }),
        fc.integer({ min: 1, max: 63 }),
        fc.nat({ max: 255 }),
        fc.integer({ min: 1, max: 255 }),
        (c, charIndex, charShift, byteIndex, xor) => {
          const sig = signPayload({ id: c.id, timestamp: c.timestamp, body: c.body, secret: c.secret });
          const b64 = sig.slice(3);
          // Textual change of one base64 character (includes changes only to the unused low bits of the last one).
          const ch = alphabet[(alphabet.indexOf(b64[charIndex]!) + charShift) % 64]!;
          const textual = `v1,${b64.slice(0, charIndex)}${ch}${b64.slice(charIndex + 1)}`;
          // Change of one decoded byte.
          const bytes = Buffer.from(b64, 'base64');
          bytes[byteIndex % 32] = bytes[byteIndex % 32]! ^ xor;
          const bytewise = `v1,${bytes.toString('base64')}`;
          for (const bad of [textual, bytewise, `v1a,${b64}`, `v2,${b64}`, `v1,${b64.replace(/=$/, '')}`]) {
            expect(ours(c, bad)).toMatchObject({ ok: false, reason: 'invalid_signature' });
            expect(bothAccept(c, bad)).toEqual([false, false]);
          }
        },
      ),
      RUNS,
    );
  });

  it('(c) a tampered timestamp or id is rejected by us and by them', () => {
    fc.assert(
      fc.property(
        caseArb.filter((c) => isUtf8(c.body)),
        fc.integer({ min: -100, max: 100 }).filter((d) => d !== 0),
        svixLikeId,
        (c, delta, otherId) => {
          fc.pre(otherId !== c.id);
          const sig = signPayload({ id: c.id, timestamp: c.timestamp, body: c.body, secret: c.secret });
          const timestamp = String(c.timestamp + delta);
          const byTimestamp = ours(c, sig, { timestamp });
          expect(byTimestamp.ok).toBe(false);
          if (!byTimestamp.ok && Math.abs(c.timestamp + delta - NOW) <= 300) expect(byTimestamp.reason).toBe('invalid_signature');
          expect(bothAccept(c, sig, { timestamp })).toEqual([false, false]);

          expect(ours(c, sig, { id: otherId })).toMatchObject({ ok: false, reason: 'invalid_signature' });
          expect(bothAccept(c, sig, { id: otherId })).toEqual([false, false]);
        },
      ),
      RUNS,
    );
  });

  it('agrees on the tolerance window for correctly signed deliveries', () => {
    fc.assert(
      fc.property(caseArb.filter((c) => isUtf8(c.body)), fc.integer({ min: -2000, max: 2000 }), (c, offset) => {
        const timestamp = NOW + offset;
        const sig = signPayload({ id: c.id, timestamp, body: c.body, secret: c.secret });
        const result = ours({ ...c, timestamp }, sig);
        const inWindow = Math.abs(offset) <= 300;
        expect(result.ok).toBe(inWindow);
        if (!result.ok) expect(result.reason).toBe(offset < 0 ? 'timestamp_too_old' : 'timestamp_too_new');
        expect(bothAccept({ ...c, timestamp }, sig)).toEqual([inWindow, inWindow]);
      }),
      RUNS,
    );
  });

  it('agrees on multi-entry headers with decoys in any order', () => {
    const entryKind = fc.constantFrom('valid', 'wrong-v1', 'v1a', 'v2', 'garbage', 'empty');
    fc.assert(
      fc.property(
        caseArb.filter((c) => isUtf8(c.body)),
        fc.array(fc.tuple(entryKind, fc.uint8Array({ minLength: 32, maxLength: 32 })), { minLength: 1, maxLength: 6 }),
        (c, entries) => {
          const sig = signPayload({ id: c.id, timestamp: c.timestamp, body: c.body, secret: c.secret });
          const b64 = sig.slice(3);
          const header = entries
            .map(([kind, random]) => {
              const r = Buffer.from(random).toString('base64');
              switch (kind) {
                case 'valid': return sig;
                case 'wrong-v1': return `v1,${r}`;
                case 'v1a': return `v1a,${b64}`;
                case 'v2': return `v2,${b64}`;
                case 'garbage': return `v1,${r.slice(0, 10)}!`;
                default: return '';
              }
            })
            .join(' ');
          const expected = entries.some(([kind]) => kind === 'valid');
          // An all-empty list makes a blank header: that is missing_headers for everyone.
          const result = ours(c, header);
          expect(result.ok).toBe(expected);
          if (header.trim() === '') expect(result).toMatchObject({ reason: 'missing_headers' });
          expect(bothAccept(c, header)).toEqual([expected, expected]);
        },
      ),
      RUNS,
    );
  });
});
