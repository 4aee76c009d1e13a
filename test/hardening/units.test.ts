/**
 * The pure parts of the hardening: client addresses, networks, rate-limit keys, the
 * constant-time comparison, and the environment variables that configure them.
 * @see issue #7
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { optionsFromEnv, resolveConfig, ENV_VARS } from '../../src/core/config.js';
import { ENV_TABLE, optionPaths, type EnvVar } from '../../src/core/env.js';
import { safeEqual } from '../../src/core/safe-equal.js';
import { normalizeIp, parseNetworks, parseTrustProxy, rateLimitKey, resolveClientIp } from '../../src/receive/client-ip.js';

const headers = (values: Record<string, string>) => (name: string) => values[name];

describe('normalizeIp', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    [' 1.2.3.4 ', '1.2.3.4'],
    ['1.2.3.4:5678', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['0:0:0:0:0:ffff:1.2.3.4', '1.2.3.4'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:DB8::1', '2001:db8::1'],
  ])('%s → %s', (raw, expected) => expect(normalizeIp(raw)).toBe(expected));

  it.each(['', 'unknown', '1.2.3', '1.2.3.4.5', '256.1.1.1', '[::1', 'example.com', '1.2.3.4, 5.6.7.8'])('%j is no address', (raw) => {
    expect(normalizeIp(raw)).toBeUndefined();
  });
});

describe('resolveClientIp', () => {
  const xff = parseTrustProxy('x-forwarded-for');
  it('uses the socket peer unless a header is trusted', () => {
    expect(resolveClientIp('::ffff:10.0.0.1', headers({ 'x-forwarded-for': '1.1.1.1' }), undefined)).toBe('10.0.0.1');
    expect(resolveClientIp(undefined, headers({ 'x-forwarded-for': '1.1.1.1' }), undefined)).toBeUndefined();
  });
  it('takes the hops-th entry from the right of x-forwarded-for', () => {
    const h = headers({ 'x-forwarded-for': 'spoofed, 198.51.100.1, 10.0.0.2' });
    expect(resolveClientIp('10.0.0.9', h, xff)).toBe('10.0.0.2');
    expect(resolveClientIp('10.0.0.9', h, parseTrustProxy('x-forwarded-for:2'))).toBe('198.51.100.1');
    // Fewer entries than proxies, a garbage entry, or no header: the peer.
    expect(resolveClientIp('10.0.0.9', h, parseTrustProxy('x-forwarded-for:4'))).toBe('10.0.0.9');
    expect(resolveClientIp('10.0.0.9', headers({ 'x-forwarded-for': 'nonsense' }), xff)).toBe('10.0.0.9');
    expect(resolveClientIp('10.0.0.9', headers({}), xff)).toBe('10.0.0.9');
  });
  it('takes a one-address header, its last value when repeated', () => {
    const cf = parseTrustProxy('CF-Connecting-IP');
    expect(cf).toEqual({ header: 'cf-connecting-ip', hops: 1 });
    expect(resolveClientIp('10.0.0.9', headers({ 'cf-connecting-ip': '2001:db8::7' }), cf)).toBe('2001:db8::7');
    expect(resolveClientIp('10.0.0.9', headers({ 'cf-connecting-ip': '6.6.6.6, 203.0.113.5' }), cf)).toBe('203.0.113.5');
  });
  it('refuses malformed settings', () => {
    expect(() => parseTrustProxy('x forwarded for')).toThrow(/trustProxy/);
    expect(() => parseTrustProxy('x-forwarded-for:0')).toThrow(/trustProxy/);
    expect(parseTrustProxy(false)).toBeUndefined();
  });
});

describe('rateLimitKey', () => {
  it('keys IPv4 by address and IPv6 by /64', () => {
    expect(rateLimitKey('203.0.113.5')).toBe('203.0.113.5');
    expect(rateLimitKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(rateLimitKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(rateLimitKey('::1')).toBe('0:0:0:0::/64');
    expect(rateLimitKey('64:ff9b::1.2.3.4')).toBe('64:ff9b:0:0::/64');
  });
  it('gives every address of one /64 the same key, and different /64s different keys', () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    const groups = (n: number) => fc.array(group, { minLength: n, maxLength: n });
    fc.assert(
      fc.property(groups(4), groups(4), groups(4), (prefix, a, b) => {
        const one = normalizeIp([...prefix, ...a].join(':'))!;
        const two = normalizeIp([...prefix, ...b].join(':'))!;
        expect(rateLimitKey(one)).toBe(rateLimitKey(two));
        expect(rateLimitKey(one)).toBe(`${prefix.map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const normal = normalizeIp(ip);
        if (normal && normal.includes(':')) expect(rateLimitKey(normal)).toMatch(/^([0-9a-f]{1,4}:){4}:\/64$/);
      }),
    );
  });
});

describe('parseNetworks', () => {
  const list = parseNetworks(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
  it('contains what its CIDRs cover', () => {
    expect(list.contains('10.255.0.1')).toBe(true);
    expect(list.contains('11.0.0.1')).toBe(false);
    expect(list.contains('192.0.2.7')).toBe(true);
    expect(list.contains('192.0.2.8')).toBe(false);
    expect(list.contains('2001:db8:ffff::1')).toBe(true);
    expect(list.contains('2001:db9::1')).toBe(false);
    expect(list.contains(undefined)).toBe(false);
  });
  it.each(['10.0.0.0/33', '10.0.0.0/', '::/129', 'example.com/8', '10.0.0.0/8/8', '10.0.0.0/-1'])('refuses %j', (entry) => {
    expect(() => parseNetworks([entry])).toThrow(/allowNetworks/);
  });
});

describe('safeEqual', () => {
  it('is equality on strings and bytes', () => {
    expect(safeEqual('token-123', 'token-123')).toBe(true);
    expect(safeEqual('token-123', 'token-124')).toBe(false);
    expect(safeEqual('token-123', 'token-1234')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
    expect(safeEqual('é', new TextEncoder().encode('é'))).toBe(true);
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => safeEqual(a, b) === (a === b)));
  });
  it('never matches a missing side', () => {
    expect(safeEqual(undefined, '')).toBe(false);
    expect(safeEqual('', null)).toBe(false);
    expect(safeEqual(undefined, undefined)).toBe(false);
  });
  it('takes about as long whatever prefix of the token a guess gets right', () => {
    const token = 'a'.repeat(64);
    const guesses = { early: `b${'a'.repeat(63)}`, late: `${'a'.repeat(63)}b`, short: 'a' };
    const runs: Record<string, number[]> = { early: [], late: [], short: [] };
    for (let round = 0; round < 30; round++) {
      for (const [name, guess] of Object.entries(guesses)) {
        const started = process.hrtime.bigint();
        for (let i = 0; i < 2000; i++) safeEqual(guess, token);
        runs[name]!.push(Number(process.hrtime.bigint() - started));
      }
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const early = median(runs.early!);
    // Generous bounds: only a gross, data-dependent difference (an early exit) can fail this.
    expect(median(runs.late!) / early).toBeLessThan(2);
    expect(median(runs.late!) / early).toBeGreaterThan(0.5);
    expect(median(runs.short!) / early).toBeGreaterThan(0.5);
  });
});

describe('environment variables', () => {
  it('map to options', () => {
    const config = resolveConfig(
      optionsFromEnv({
        CLERK_SYNC_RATE_LIMIT_FAILED: '0',
        CLERK_SYNC_RATE_LIMIT_VERIFIED: '60',
        CLERK_SYNC_RATE_LIMIT_WINDOW_SECONDS: '30',
        CLERK_SYNC_RATE_LIMIT_PREFIX: 'app1',
        REDIS_URL: 'redis://127.0.0.1:6379/2',
        CLERK_SYNC_TRUST_PROXY: 'X-Forwarded-For:2',
        CLERK_SYNC_ALLOW_NETWORKS: '10.0.0.0/8, 2001:db8::/32',
        CLERK_SYNC_HEADERS_TIMEOUT_MS: '5000',
        CLERK_SYNC_REQUEST_TIMEOUT_MS: '20000',
        CLERK_SYNC_MAX_HEADER_BYTES: '8192',
        CLERK_SYNC_KEEP_ALIVE_TIMEOUT_MS: '65000',
      }),
    );
    expect(config.rateLimit).toEqual({ failed: 0, verified: 60, windowSeconds: 30, keyPrefix: 'app1', redisUrl: 'redis://127.0.0.1:6379/2' });
    expect(config.trustProxy).toBe('x-forwarded-for:2');
    expect(config.allowNetworks).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(config.http).toEqual({ headersTimeoutMs: 5000, requestTimeoutMs: 20000, maxHeaderBytes: 8192, keepAliveTimeoutMs: 65000 });
    for (const name of ['CLERK_SYNC_RATE_LIMIT_FAILED', 'CLERK_SYNC_RATE_LIMIT_VERIFIED', 'CLERK_SYNC_TRUST_PROXY', 'CLERK_SYNC_ALLOW_NETWORKS', 'REDIS_URL']) {
      expect(ENV_VARS).toContain(name);
    }
  });
  it('default to: 60 failures a minute, verified unlimited, socket address, no allow-list', () => {
    const config = resolveConfig(optionsFromEnv({}));
    expect(config.rateLimit).toMatchObject({ failed: 60, verified: 0, windowSeconds: 60 });
    expect(config.rateLimit.redisUrl).toBeUndefined();
    expect(config.trustProxy).toBe(false);
    expect(config.allowNetworks).toBeUndefined();
    expect(resolveConfig(optionsFromEnv({ CLERK_SYNC_TRUST_PROXY: 'false' })).trustProxy).toBe(false);
  });
  it('metadata grants: off by default, on with CLERK_SYNC_METADATA_GRANTS=true, a clear error otherwise', () => {
    expect(resolveConfig(optionsFromEnv({})).metadataGrants).toBe(false);
    expect(resolveConfig(optionsFromEnv({ CLERK_SYNC_METADATA_GRANTS: 'true' })).metadataGrants).toBe(true);
    expect(resolveConfig(optionsFromEnv({ CLERK_SYNC_METADATA_GRANTS: 'off' })).metadataGrants).toBe(false);
    expect(() => optionsFromEnv({ CLERK_SYNC_METADATA_GRANTS: 'maybe' })).toThrow(/CLERK_SYNC_METADATA_GRANTS/);
  });
  it('refuse what is not a number', () => {
    expect(() => optionsFromEnv({ CLERK_SYNC_RATE_LIMIT_FAILED: 'sixty' })).toThrow(/CLERK_SYNC_RATE_LIMIT_FAILED/);
  });
  const table = ENV_TABLE as readonly EnvVar[];
  const at = (options: unknown, path: string) => path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], options);
  it('refuse a bad number or boolean in every variable of that kind with invalid_config naming it', () => {
    const bad = { int: ['sixty', '-1', '1.5', ' 7'], boolean: ['maybe', '2'] } as const;
    const checked = table.filter((v) => v.parse === 'int' || v.parse === 'boolean');
    expect(checked.length).toBeGreaterThan(15);
    for (const variable of checked) {
      for (const raw of bad[variable.parse as keyof typeof bad]) {
        const kind = variable.parse === 'int' ? 'a whole number' : 'true or false';
        expect(() => optionsFromEnv({ [variable.name]: raw }), `${variable.name}=${raw}`).toThrow(expect.objectContaining({ code: 'invalid_config', message: `${variable.name} must be ${kind}, got "${raw}"` }));
      }
    }
  });
  it('name every bad variable in one error', () => {
    expect(() => optionsFromEnv({ CLERK_SYNC_POOL_SIZE: 'ten', CLERK_SYNC_EMAIL_RELAY: 'perhaps', CLERK_SYNC_SCHEMA: 'app' })).toThrow(
      'CLERK_SYNC_POOL_SIZE must be a whole number, got "ten"; CLERK_SYNC_EMAIL_RELAY must be true or false, got "perhaps"',
    );
  });
  it('set the option of every variable that has one, and leave it unset when the variable is empty', () => {
    const sample = { text: 'value', int: '7', boolean: 'yes', list: 'a, b', trustProxy: 'X-Real-IP' } as const;
    const parsed = { text: 'value', int: 7, boolean: true, list: ['a', 'b'], trustProxy: 'x-real-ip' } as const;
    for (const variable of table.filter((v) => v.option !== undefined)) {
      const options = optionsFromEnv({ [variable.name]: sample[variable.parse] });
      for (const path of optionPaths(variable)) expect(at(options, path), `${variable.name} → ${path}`).toEqual(parsed[variable.parse]);
      expect(optionsFromEnv({ [variable.name]: '' }), variable.name).toEqual({});
    }
  });
  it('read CLERK_WEBHOOK_SECRET only when CLERK_WEBHOOK_SIGNING_SECRET is unset or empty', () => {
    expect(optionsFromEnv({ CLERK_WEBHOOK_SECRET: 'whsec_old' }).secret).toBe('whsec_old');
    expect(optionsFromEnv({ CLERK_WEBHOOK_SIGNING_SECRET: '', CLERK_WEBHOOK_SECRET: 'whsec_old' }).secret).toBe('whsec_old');
    expect(optionsFromEnv({ CLERK_WEBHOOK_SIGNING_SECRET: 'whsec_new', CLERK_WEBHOOK_SECRET: 'whsec_old' }).secret).toBe('whsec_new');
  });
  it('list each variable once, and mark the credentials secret', () => {
    expect(new Set(ENV_VARS).size).toBe(ENV_VARS.length);
    const secrets = table.filter((v) => v.secret).map((v) => v.name);
    expect(secrets).toEqual(expect.arrayContaining(['CLERK_WEBHOOK_SIGNING_SECRET', 'CLERK_SECRET_KEY', 'CLERK_SYNC_ADMIN_TOKEN', 'RESEND_API_KEY', 'DATABASE_URL']));
    expect(secrets).not.toContain('CLERK_SYNC_SCHEMA');
  });
  it('bound a delivery (30 s) and /readyz (3 s) by default; set, zero and not a number', () => {
    expect(resolveConfig(optionsFromEnv({}))).toMatchObject({ deliveryTimeoutMs: 30_000, readyTimeoutMs: 3_000 });
    expect(resolveConfig(optionsFromEnv({ CLERK_SYNC_DELIVERY_TIMEOUT_MS: '12000', CLERK_SYNC_READY_TIMEOUT_MS: '1500' }))).toMatchObject({ deliveryTimeoutMs: 12_000, readyTimeoutMs: 1_500 });
    expect(() => resolveConfig(optionsFromEnv({ CLERK_SYNC_DELIVERY_TIMEOUT_MS: '0' }))).toThrow(/deliveryTimeoutMs/);
    expect(() => optionsFromEnv({ CLERK_SYNC_READY_TIMEOUT_MS: '3s' })).toThrow(/CLERK_SYNC_READY_TIMEOUT_MS/);
    for (const name of ['CLERK_SYNC_DELIVERY_TIMEOUT_MS', 'CLERK_SYNC_READY_TIMEOUT_MS']) expect(ENV_VARS).toContain(name);
  });
});
