import { describe, expect, it } from 'vitest';
import { compareKeys, FUTURE_TOLERANCE_MS, orderingKey, toMillis } from './version.js';
import { scrubJson, scrubPayload } from './scrub.js';

describe('toMillis', () => {
  it('reads seconds (below 10^12) and milliseconds', () => {
    expect(toMillis(1716883200)).toBe(1716883200000);
    expect(toMillis(1716883200000)).toBe(1716883200000);
    expect(toMillis(999_999_999_999)).toBe(999_999_999_999_000);
    expect(toMillis(1e12)).toBe(1e12);
    expect(toMillis('1716883200')).toBe(1716883200000);
  });

  it('refuses what is not a time', () => {
    for (const value of [null, undefined, 'soon', -1, Number.NaN, Infinity, {}, '1e9']) expect(toMillis(value)).toBeNull();
  });
});

describe('ordering key', () => {
  const event = (id: string, ts: number | null, data: Record<string, unknown>) => ({ id, type: 'user.updated', clerkTimestamp: ts, payload: { type: 'user.updated', data }, source: 'webhook' as const });

  it('is (updated_at, envelope ts, svix id), else the envelope ts as version', () => {
    const T = 1_750_000_000_000;
    expect(orderingKey(event('msg_1', T + 1, { updated_at: T }))).toEqual({ version: T, eventTs: T + 1, eventId: 'msg_1' });
    expect(orderingKey(event('msg_1', T + 1, {}))).toEqual({ version: T + 1, eventTs: T + 1, eventId: 'msg_1' });
    // updated_at in seconds is normalised like the envelope timestamp
    expect(orderingKey(event('msg_1', T + 1, { updated_at: T / 1000 }))).toMatchObject({ version: T });
    expect(orderingKey({ ...event('msg_1', null, {}), payload: { type: 'x', data: {}, timestamp: 1716883200 } })).toMatchObject({ version: 1716883200000 });
  });

  it('bounds updated_at by the envelope timestamp plus the tolerance, and says so', () => {
    const T = 1_750_000_000_000;
    const year9999 = 253_402_300_799_000;
    expect(orderingKey(event('msg_1', T, { updated_at: T + FUTURE_TOLERANCE_MS }))).toEqual({ version: T + FUTURE_TOLERANCE_MS, eventTs: T, eventId: 'msg_1' });
    expect(orderingKey(event('msg_1', T, { updated_at: T + FUTURE_TOLERANCE_MS + 1 }))).toEqual({ version: T + FUTURE_TOLERANCE_MS, eventTs: T, eventId: 'msg_1', clampedFrom: T + FUTURE_TOLERANCE_MS + 1 });
    const inSeconds = event('msg_1', null, { updated_at: year9999 / 1000 });
    expect(orderingKey({ ...inSeconds, payload: { ...inSeconds.payload, timestamp: T / 1000 } })).toEqual({ version: T + FUTURE_TOLERANCE_MS, eventTs: T, eventId: 'msg_1', clampedFrom: year9999 });
    // Without an envelope timestamp there is nothing to bound by.
    expect(orderingKey(event('msg_1', null, { updated_at: year9999 }))).toEqual({ version: year9999, eventTs: 0, eventId: 'msg_1' });
  });

  it('compares in that order, svix ids by code point', () => {
    expect(compareKeys({ version: 2, eventTs: 0, eventId: 'a' }, { version: 1, eventTs: 9, eventId: 'z' })).toBe(1);
    expect(compareKeys({ version: 1, eventTs: 1, eventId: 'z' }, { version: 1, eventTs: 2, eventId: 'a' })).toBe(-1);
    expect(compareKeys({ version: 1, eventTs: 1, eventId: 'B' }, { version: 1, eventTs: 1, eventId: 'a' })).toBe(-1);
    expect(compareKeys({ version: 1, eventTs: 1, eventId: 'a' }, { version: 1, eventTs: 1, eventId: 'a' })).toBe(0);
  });
});

describe('scrubJson', () => {
  it('keeps ids, types, statuses and timestamps at any depth, drops the rest and metadata whole', () => {
    const data = {
      id: 'user_1', object: 'user', first_name: 'Jane', created_at: 1, primary_email_address_id: 'idn_1',
      email_addresses: [{ id: 'idn_1', email_address: 'j@x.com', verification: { status: 'verified', strategy: 'email_code' } }],
      public_metadata: { role: 'admin', org_id: 'org_1' },
      public_user_data: { user_id: 'user_1', identifier: 'j@x.com' },
      permissions: ['org:a'],
    };
    expect(scrubJson(data)).toEqual({
      id: 'user_1', object: 'user', created_at: 1, primary_email_address_id: 'idn_1',
      email_addresses: [{ id: 'idn_1', verification: { status: 'verified' } }],
      public_user_data: { user_id: 'user_1' },
      permissions: ['org:a'],
    });
  });

  it('scrubs an envelope: event_attributes go, type and times stay, and it is marked', () => {
    const payload = { type: 'user.created', object: 'event', timestamp: 5, instance_id: 'ins_1', event_attributes: { http_request: { client_ip: '1.2.3.4' } }, data: { id: 'user_1', first_name: 'J' } };
    expect(scrubPayload(payload)).toEqual({ type: 'user.created', object: 'event', timestamp: 5, instance_id: 'ins_1', scrubbed: true, data: { id: 'user_1' } });
  });
});
