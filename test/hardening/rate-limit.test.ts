/**
 * Rate limits, trusted proxies and the allow-list of the webhook path, over real HTTP from several
 * loopback addresses; Redis shared by two `serve` processes; Redis unreachable or dying mid-run.
 * @see issue #7
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClerkSyncOptions } from '../../src/core/config.js';
import { createLogger } from '../../src/core/logger.js';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startServer } from '../support/http.js';
import { badlySigned, eventBody, freePort, send, signed, startServe, SECRET } from './support.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const A = '127.0.0.2';
const B = '127.0.0.3';

let database: TestDatabase;
beforeAll(async () => {
  database = await backends[0]!.create();
});
afterAll(async () => {
  await database.drop();
});

const storedIds = async (): Promise<string[]> => (await database.db.query<{ id: string }>('select id from clerk.webhook_events order by id')).rows.map((r) => r.id);

function captureLogs() {
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
  return { logger, lines, text: () => lines.join('') };
}

async function serve(options: Partial<ClerkSyncOptions> = {}): Promise<{ sync: ClerkSync; url: string; close(): Promise<void> }> {
  const sync = createClerkSync({ db: database.db, secret: SECRET, logger: false, ...options });
  const server = await startServer(sync);
  return {
    sync,
    url: `${server.url}/webhooks/clerk`,
    async close() {
      await server.close();
      await sync.close();
    },
  };
}

const uid = () => randomBytes(6).toString('hex');

async function burst(url: string, n: number, from: string, headers: Record<string, string> = {}): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const bad = badlySigned(`msg_bad_${uid()}`);
    statuses.push((await send(url, { headers: { ...bad.headers, ...headers }, body: bad.body, localAddress: from })).status);
  }
  return statuses;
}

describe('rate limits per client address (in memory)', () => {
  it('a burst of failures from one address gets 429 with Retry-After; another address is unaffected', async () => {
    const s = await serve();
    try {
      const started = Date.now();
      expect(await burst(s.url, 60, A)).toEqual(Array(60).fill(400));
      const limited = await send(s.url, { ...badlySigned('msg_61'), localAddress: A });
      expect(limited.status).toBe(429);
      expect(limited.json.error.code).toBe('rate_limited');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      // The window opened with the first failure; Retry-After is what is left of it.
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(retryAfter).toBeGreaterThanOrEqual(60 - Math.ceil((Date.now() - started) / 1000) - 1);

      // Refused before verification: even a valid delivery from that address waits (Svix retries).
      const id = `msg_ok_${uid()}`;
      const valid = signed(id, eventBody('user_a'));
      expect((await send(s.url, { ...valid, localAddress: A })).status).toBe(429);
      expect(await storedIds()).not.toContain(id);

      expect((await send(s.url, { ...badlySigned('msg_b1'), localAddress: B })).status).toBe(400);
      expect((await send(s.url, { ...valid, localAddress: B })).status).toBe(200);
      expect(await storedIds()).toContain(id);
    } finally {
      await s.close();
    }
  });

  it('Retry-After is honest: after waiting it, the address is heard again', async () => {
    const s = await serve({ rateLimit: { failed: 3, windowSeconds: 2 } });
    try {
      expect(await burst(s.url, 3, A)).toEqual([400, 400, 400]);
      const limited = await send(s.url, { ...badlySigned('msg_x'), localAddress: A });
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(2);
      await new Promise((r) => setTimeout(r, retryAfter * 1000 + 50));
      expect((await send(s.url, { ...badlySigned('msg_y'), localAddress: A })).status).toBe(400);
    } finally {
      await s.close();
    }
  });

  it('counts oversized bodies as failures, but not other methods, nor a correctly signed body it refuses', async () => {
    const s = await serve({ rateLimit: { failed: 2 }, maxBodyBytes: 1024 });
    try {
      expect((await send(s.url, { method: 'GET', localAddress: A })).status).toBe(405);
      expect((await send(s.url, { method: 'GET', localAddress: A })).status).toBe(405);
      expect((await send(s.url, { ...signed(`msg_${uid()}`, 'x'.repeat(2000)), localAddress: A })).status).toBe(413);
      // The signature proves the sender (Svix's addresses are shared): its malformed bodies cost nothing.
      for (let i = 0; i < 3; i++) expect((await send(s.url, { ...signed(`msg_${uid()}`, '[1]'), localAddress: A })).status).toBe(400);
      expect((await send(s.url, { ...signed(`msg_${uid()}`, eventBody('u')), localAddress: A })).status).toBe(200);
      expect((await send(s.url, { ...signed(`msg_${uid()}`, 'x'.repeat(2000)), localAddress: A })).status).toBe(413);
      expect((await send(s.url, { ...signed(`msg_${uid()}`, eventBody('u')), localAddress: A })).status).toBe(429);
    } finally {
      await s.close();
    }
  });

  it('leaves verified deliveries alone by default, and limits them when asked', async () => {
    const open = await serve();
    const strict = await serve({ rateLimit: { verified: 3 } });
    try {
      for (let i = 0; i < 70; i++) {
        expect((await send(open.url, { ...signed(`msg_open_${i}_${uid()}`, eventBody(`u${i}`)), localAddress: A })).status).toBe(200);
      }
      const ids = Array.from({ length: 4 }, () => `msg_strict_${uid()}`);
      const statuses = [];
      for (const id of ids) statuses.push(await send(strict.url, { ...signed(id, eventBody('u')), localAddress: A }));
      expect(statuses.map((a) => a.status)).toEqual([200, 200, 200, 429]);
      expect(Number(statuses[3]!.headers['retry-after'])).toBeGreaterThan(0);
      const stored = await storedIds();
      expect(ids.slice(0, 3).every((id) => stored.includes(id))).toBe(true);
      expect(stored).not.toContain(ids[3]);
      expect((await send(strict.url, { ...signed(`msg_${uid()}`, eventBody('u')), localAddress: B })).status).toBe(200);
    } finally {
      await open.close();
      await strict.close();
    }
  });

  it('failed: 0 turns the failure budget off', async () => {
    const s = await serve({ rateLimit: { failed: 0 } });
    try {
      expect((await burst(s.url, 80, A)).every((status) => status === 400)).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('client address behind proxies', () => {
  it('does not believe x-forwarded-for by default', async () => {
    const s = await serve({ rateLimit: { failed: 5 } });
    try {
      const statuses = [];
      for (let i = 0; i < 8; i++) statuses.push(...(await burst(s.url, 1, A, { 'x-forwarded-for': `198.51.100.${i}` })));
      expect(statuses).toEqual([400, 400, 400, 400, 400, 429, 429, 429]);
    } finally {
      await s.close();
    }
  });

  it('believes the configured header: x-forwarded-for counted from the right by hops', async () => {
    const one = await serve({ rateLimit: { failed: 3 }, trustProxy: 'x-forwarded-for' });
    const two = await serve({ rateLimit: { failed: 3 }, trustProxy: 'x-forwarded-for:2' });
    try {
      // One proxy: the rightmost entry is the client; what the client wrote to the left is ignored.
      const spoofing = (i: number) => ({ 'x-forwarded-for': `10.9.9.${i}, 203.0.113.7` });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(...(await burst(one.url, 1, A, spoofing(i))));
      expect(statuses).toEqual([400, 400, 400, 429]);
      expect(await burst(one.url, 1, A, { 'x-forwarded-for': '203.0.113.8' })).toEqual([400]);

      // Two proxies: the second entry from the right.
      const viaTwo = (i: number) => ({ 'x-forwarded-for': `10.9.9.${i}, 203.0.113.9, 10.0.0.1` });
      const twoStatuses = [];
      for (let i = 0; i < 4; i++) twoStatuses.push(...(await burst(two.url, 1, A, viaTwo(i))));
      expect(twoStatuses).toEqual([400, 400, 400, 429]);
      // Too few entries for two proxies: the request did not come through both; the socket address counts.
      expect(await burst(two.url, 1, B, { 'x-forwarded-for': '203.0.113.9' })).toEqual([400]);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('believes a one-address header such as cf-connecting-ip, IPv6 keyed by /64', async () => {
    const s = await serve({ rateLimit: { failed: 2 }, trustProxy: 'cf-connecting-ip' });
    try {
      const statuses = [];
      for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff::3']) statuses.push(...(await burst(s.url, 1, A, { 'cf-connecting-ip': ip })));
      expect(statuses).toEqual([400, 400, 429]);
      expect(await burst(s.url, 1, A, { 'cf-connecting-ip': '2001:db8:1:3::1' })).toEqual([400]);
    } finally {
      await s.close();
    }
  });
});

describe('allow-list of source networks', () => {
  it('answers 403 forbidden outside the list and serves inside it', async () => {
    const s = await serve({ allowNetworks: [`${A}/32`, '10.0.0.0/8'] });
    try {
      const outside = await send(s.url, { ...signed(`msg_${uid()}`, eventBody('u')), localAddress: B });
      expect(outside.status).toBe(403);
      expect(outside.json.error.code).toBe('forbidden');
      expect((await send(s.url, { method: 'GET', localAddress: B })).status).toBe(403);
      const id = `msg_${uid()}`;
      expect((await send(s.url, { ...signed(id, eventBody('u')), localAddress: A })).status).toBe(200);
      expect(await storedIds()).toContain(id);
    } finally {
      await s.close();
    }
  });

  it('refuses a malformed allow-list or trustProxy at construction', () => {
    expect(() => createClerkSync({ secret: SECRET, logger: false, allowNetworks: ['10.0.0.0/33'] })).toThrow(/allowNetworks/);
    expect(() => createClerkSync({ secret: SECRET, logger: false, allowNetworks: ['example.com'] })).toThrow(/allowNetworks/);
    expect(() => createClerkSync({ secret: SECRET, logger: false, trustProxy: 'x-forwarded-for:0' })).toThrow(/trustProxy/);
  });
});

describe('the web-standard handler', () => {
  const request = (d: { headers: Record<string, string>; body: string }) => new Request('http://x/api/webhooks/clerk', { method: 'POST', headers: d.headers, body: d.body });

  it('applies limits per the clientIp its caller passes, and none without one', async () => {
    const sync = createClerkSync({ db: database.db, secret: SECRET, logger: false, rateLimit: { failed: 2 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await sync.handleWebhook(request(badlySigned(`m${i}`)), { clientIp: '192.0.2.1' })).status);
      expect(statuses).toEqual([400, 400, 429]);
      expect((await sync.handleWebhook(request(badlySigned('m')), { clientIp: '192.0.2.2' })).status).toBe(400);
      // Next.js calls POST(request, { params }): no address, so no limit (documented).
      const anonymous = [];
      for (let i = 0; i < 4; i++) anonymous.push((await sync.handleWebhook(request(badlySigned(`n${i}`)), { params: {} } as never)).status);
      expect(anonymous).toEqual([400, 400, 400, 400]);
    } finally {
      await sync.close();
    }
  });

  it('uses the forwarded header the platform sets when trustProxy names it', async () => {
    const sync = createClerkSync({ db: database.db, secret: SECRET, logger: false, rateLimit: { failed: 1 }, trustProxy: 'x-real-ip' });
    try {
      const from = (ip: string, i: number) => {
        const d = badlySigned(`r${i}`);
        return sync.handleWebhook(request({ headers: { ...d.headers, 'x-real-ip': ip }, body: d.body }));
      };
      expect((await from('192.0.2.9', 1)).status).toBe(400);
      expect((await from('192.0.2.9', 2)).status).toBe(429);
      expect((await from('192.0.2.10', 3)).status).toBe(400);
    } finally {
      await sync.close();
    }
  });

  it('refuses an unknown address when an allow-list is set', async () => {
    const sync = createClerkSync({ db: database.db, secret: SECRET, logger: false, allowNetworks: ['192.0.2.0/24'] });
    try {
      const d = signed(`msg_${uid()}`, eventBody('u'));
      expect((await sync.handleWebhook(request(d))).status).toBe(403);
      expect((await sync.handleWebhook(request(d), { clientIp: '192.0.2.77' })).status).toBe(200);
    } finally {
      await sync.close();
    }
  });
});

describe('shared limits in Redis', () => {
  const prefixes: string[] = [];
  const dirs: string[] = [];
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis.disconnect();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const freshPrefix = () => {
    const prefix = `clerk-sync-test:${uid()}`;
    prefixes.push(prefix);
    return prefix;
  };

  it('two server processes sharing Redis enforce one budget', async () => {
    const prefix = freshPrefix();
    const dbFor = async (): Promise<Record<string, string>> => {
      const dir = mkdtempSync(join(tmpdir(), 'clerk-sync-rl-'));
      dirs.push(dir);
      return { CLERK_SYNC_DATA_DIR: dir };
    };
    const env = { REDIS_URL, CLERK_SYNC_RATE_LIMIT_PREFIX: prefix, CLERK_SYNC_RATE_LIMIT_FAILED: '10', CLERK_SYNC_LOG_LEVEL: 'warn' };
    const [one, two] = await Promise.all([startServe({ ...env, ...(await dbFor()) }), startServe({ ...env, ...(await dbFor()) })]);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push(...(await burst(`${(i % 2 ? one : two).url}/webhooks/clerk`, 1, A)));
      expect(statuses).toEqual(Array(10).fill(400));
      expect(await burst(`${one.url}/webhooks/clerk`, 1, A)).toEqual([429]);
      expect(await burst(`${two.url}/webhooks/clerk`, 1, A)).toEqual([429]);
      expect(await burst(`${two.url}/webhooks/clerk`, 1, B)).toEqual([400]);
      expect(Number(await redis.get(`${prefix}:failed:${A}`))).toBe(10);
      expect(one.output()).not.toMatch(/Redis is unavailable/);
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });

  it('Redis unreachable: in-memory limits take over, a warning says so, never a 5xx', async () => {
    const port = await freePort();
    const logs = captureLogs();
    const s = await serve({ logger: logs.logger, rateLimit: { failed: 5, redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: freshPrefix() } });
    try {
      const started = Date.now();
      const statuses = await burst(s.url, 8, A);
      expect(statuses).toEqual([400, 400, 400, 400, 400, 429, 429, 429]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(s.sync.config.rateLimit.redisUrl).toContain(String(port));
      expect(logs.text()).toMatch(/Redis is unavailable: rate limits fall back to in-memory/);
      expect(logs.text().match(/Redis is unavailable/g)).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('Redis dying mid-run: answers go on from memory, and counts return to Redis when it is back', async () => {
    const port = await freePort();
    const startRedis = async (): Promise<ChildProcess> => {
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      for (let i = 0; i < 50; i++) {
        const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on('error', () => {});
        const ok = await probe.connect().then(() => true, () => false);
        probe.disconnect();
        if (ok) return child;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('redis-server did not start');
    };
    let server = await startRedis();
    const prefix = freshPrefix();
    const logs = captureLogs();
    const s = await serve({ logger: logs.logger, rateLimit: { failed: 4, redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: prefix } });
    const own = new Redis({ port, maxRetriesPerRequest: 1 });
    own.on('error', () => {});
    try {
      expect(await burst(s.url, 2, A)).toEqual([400, 400]);
      expect(Number(await own.get(`${prefix}:failed:${A}`))).toBe(2);

      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      const during = await burst(s.url, 6, B);
      expect(during).toEqual([400, 400, 400, 400, 429, 429]);
      expect(logs.text()).toMatch(/Redis is unavailable/);

      server = await startRedis();
      for (let i = 0; i < 100 && !/reachable again/.test(logs.text()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(logs.text()).toMatch(/Redis is reachable again/);
      expect(await burst(s.url, 1, A)).toEqual([400]);
      expect(Number(await own.get(`${prefix}:failed:${A}`))).toBe(1);
    } finally {
      own.disconnect();
      await s.close();
      server.kill('SIGKILL');
    }
  });
});
