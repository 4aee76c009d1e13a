/**
 * `clerk-sync/next` beyond the webhook route: the cron route that drains inline deployments
 * (bearer secret as Vercel Cron sends it, time budget), and the client address taken from the
 * hosting platform's header when the platform is detected.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNextCronRoute, createNextRoute, detectPlatform } from '../../src/adapters/next.js';
import { createClerkSync } from '../../src/service/clerk-sync.js';
import { signEvent } from '../../src/testing/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { envelope, insertInbox, stored, truncateAll } from '../projections/support.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CRON = 'cron-secret-0123456789abcdef';
const T = 1_750_000_000_000;

const cronCall = (authorization?: string) =>
  new Request('http://localhost/api/cron/clerk-sync', { headers: authorization === undefined ? {} : { authorization } });

describe('createNextCronRoute', () => {
  let database: TestDatabase;
  const saved = process.env.CRON_SECRET;
  beforeAll(async () => {
    database = await backends[0]!.create();
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.CRON_SECRET;
    else process.env.CRON_SECRET = saved;
    await database.drop();
  });
  beforeEach(async () => {
    await truncateAll(database.db);
    for (let i = 0; i < 5; i += 1) await insertInbox(database.db, stored(envelope('user.created', { id: `user_${i}`, created_at: T, updated_at: T }, T)));
  });
  const pending = async () => (await database.db.query<{ n: number }>(`select count(*)::int as n from clerk.webhook_events where status = 'pending'`)).rows[0]!.n;

  it('without a secret it refuses every call (500 cron_secret_not_configured) and drains nothing', async () => {
    delete process.env.CRON_SECRET;
    const { GET } = createNextCronRoute({ db: database.db, logger: false });
    const res = await GET(cronCall(`Bearer ${CRON}`));
    expect(res.status).toBe(500);
    expect((await res.json()).error.code).toBe('cron_secret_not_configured');
    expect(await pending()).toBe(5);
  });

  it('a missing, malformed or wrong bearer gets 401 and drains nothing', async () => {
    process.env.CRON_SECRET = CRON;
    const { GET, POST } = createNextCronRoute({ db: database.db, logger: false });
    for (const header of [undefined, CRON, `Basic ${CRON}`, `Bearer ${CRON}x`, 'Bearer ', `bearer ${CRON}`]) {
      const res = await GET(cronCall(header));
      expect(res.status, String(header)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect((await res.json()).error.code).toBe('unauthorized');
    }
    expect((await POST(cronCall('Bearer nope'))).status).toBe(401);
    expect(await pending()).toBe(5);
  });

  it('with CRON_SECRET (read per request) it applies what is pending and reports the counts', async () => {
    process.env.CRON_SECRET = CRON;
    const { GET } = createNextCronRoute({ db: database.db, logger: false });
    const res = await GET(cronCall(`Bearer ${CRON}`));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body.events).toMatchObject({ applied: 5, waiting: 0, deadlineReached: false });
    expect(await pending()).toBe(0);
  });

  it('an explicit secret wins over the variable; a spent budget claims nothing and says so', async () => {
    process.env.CRON_SECRET = 'other';
    const { GET } = createNextCronRoute({ db: database.db, logger: false }, { secret: CRON, budgetMs: 0 });
    expect((await GET(cronCall('Bearer other'))).status).toBe(401);
    const res = await GET(cronCall(`Bearer ${CRON}`));
    expect(res.status).toBe(200);
    expect((await res.json()).events).toMatchObject({ applied: 0, waiting: 5, deadlineReached: true });
  });

  it('an unreachable database answers 503 database_unavailable', async () => {
    const route = createNextCronRoute({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', logger: false, autoMigrate: false }, { secret: CRON });
    const res = await route.GET(cronCall(`Bearer ${CRON}`));
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('database_unavailable');
    await route.sync.close();
  });
});

describe('createNextRoute: client address from the platform', () => {
  let database: TestDatabase;
  const saved = { VERCEL: process.env.VERCEL, NETLIFY: process.env.NETLIFY, FLY_APP_NAME: process.env.FLY_APP_NAME };
  beforeAll(async () => {
    database = await backends[0]!.create();
  });
  afterAll(async () => database.drop());
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  // The allow-list makes the address the route used visible: inside it 200, outside 403.
  const options = () => ({ db: database.db, secret: SECRET, logger: false as const, allowNetworks: ['203.0.113.0/24'] });
  const delivery = (headers: Record<string, string>) => {
    const e = signEvent({ secret: SECRET, event: { type: 'user.created', data: { id: 'user_ip' } } });
    return new Request('http://localhost/api/webhooks/clerk', { method: 'POST', body: e.body, headers: { ...e.headers, ...headers } });
  };

  it('detects Vercel, Netlify and Fly by the variables they set', () => {
    expect(detectPlatform({ VERCEL: '1' })).toBe('vercel');
    expect(detectPlatform({ NETLIFY: 'true' })).toBe('netlify');
    expect(detectPlatform({ FLY_APP_NAME: 'my-app' })).toBe('fly');
    expect(detectPlatform({ VERCEL: '0' })).toBeUndefined();
    expect(detectPlatform({})).toBeUndefined();
  });

  it('on Vercel the route believes x-real-ip without configuration', async () => {
    process.env.VERCEL = '1';
    const { POST } = createNextRoute(options());
    expect((await POST(delivery({ 'x-real-ip': '203.0.113.9' }))).status).toBe(200);
    expect((await POST(delivery({ 'x-real-ip': '198.51.100.1' }))).status).toBe(403);
  });

  it('elsewhere the header is not believed: anyone can send it', async () => {
    delete process.env.VERCEL;
    delete process.env.NETLIFY;
    delete process.env.FLY_APP_NAME;
    const { POST } = createNextRoute(options());
    expect((await POST(delivery({ 'x-real-ip': '203.0.113.9' }))).status).toBe(403);
  });

  it("platform: 'none' turns detection off; a named platform forces its header; trustProxy wins over detection", async () => {
    process.env.VERCEL = '1';
    expect((await createNextRoute(options(), { platform: 'none' }).POST(delivery({ 'x-real-ip': '203.0.113.9' }))).status).toBe(403);
    delete process.env.VERCEL;
    expect((await createNextRoute(options(), { platform: 'fly' }).POST(delivery({ 'fly-client-ip': '203.0.113.9' }))).status).toBe(200);
    process.env.NETLIFY = 'true';
    const proxied = createNextRoute({ ...options(), trustProxy: 'cf-connecting-ip' });
    expect((await proxied.POST(delivery({ 'x-nf-client-connection-ip': '203.0.113.9', 'cf-connecting-ip': '198.51.100.1' }))).status).toBe(403);
    expect((await proxied.POST(delivery({ 'x-nf-client-connection-ip': '198.51.100.1', 'cf-connecting-ip': '203.0.113.9' }))).status).toBe(200);
  });

  it('an instance built elsewhere is accepted too', async () => {
    process.env.VERCEL = '1';
    const sync = createClerkSync(options());
    const { POST } = createNextRoute(sync);
    expect((await POST(delivery({ 'x-real-ip': '203.0.113.200' }))).status).toBe(200);
  });
});
