/**
 * The admin's access rules over real HTTP, on every database backend: nothing without the token,
 * cookie sessions that are HttpOnly/SameSite=Strict and expire, CSRF and cross-site refusal on
 * POST, bearer tokens for the JSON API, escaping of payload data, and no admin at all without a
 * configured token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkSync } from '../../src/service/clerk-sync.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { deliver, drain, startAdmin, TOKEN, userEvent, type AdminServer } from './support.js';

async function login(url: string): Promise<{ cookie: string; setCookie: string }> {
  const response = await fetch(`${url}/admin/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
  expect(response.status).toBe(303);
  const setCookie = response.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, setCookie };
}

async function csrfFrom(url: string, cookie: string): Promise<string> {
  const page = await (await fetch(`${url}/admin/dead`, { headers: { cookie } })).text();
  return /name="csrf" value="([^"]+)"/.exec(page)![1]!;
}

for (const backend of backends) {
  describe(`admin access (${backend.name})`, () => {
    let database: TestDatabase;
    let admin: AdminServer;
    let clock = Date.now();
    let deadId: string;

    beforeAll(async () => {
      database = await backend.create();
      admin = await startAdmin(database.db, { now: () => clock });
      await deliver(admin.url, userEvent('user.created', 'user_xss', { first_name: '<script>alert("x")</script>', last_name: '<img src=x onerror=alert(1)>' }));
      deadId = await deliver(admin.url, { type: 'user.updated', object: 'event', timestamp: Date.now(), data: { object: 'user' } });
      await drain(database.db);
    });
    afterAll(async () => {
      await admin.close();
      await database.drop();
    });

    it('answers 401 to every page and API route without the token', async () => {
      for (const path of ['/admin', '/admin/', '/admin/events', `/admin/events/${deadId}`, '/admin/dead', '/admin/lookup?q=user_xss', '/admin/outbox', '/admin/nope']) {
        const response = await fetch(`${admin.url}${path}`);
        expect(response.status, path).toBe(401);
        const text = await response.text();
        expect(text).toContain('Admin token');
        expect(text).not.toContain('user_xss');
      }
      for (const path of ['/admin/api/stats', '/admin/api/events', `/admin/api/events/${deadId}`, '/admin/api/lookup?q=user_xss']) {
        const response = await fetch(`${admin.url}${path}`);
        expect(response.status, path).toBe(401);
        expect((await response.json()).error.code).toBe('unauthorized');
      }
      for (const path of [`/admin/events/${deadId}/replay`, '/admin/dead/replay', '/admin/api/dead/replay', '/admin/outbox/replay', '/admin/logout']) {
        const response = await fetch(`${admin.url}${path}`, { method: 'POST', body: new URLSearchParams({ id: deadId }) });
        expect(response.status, path).toBe(401);
      }
      const row = await database.db.query<{ status: string }>('select status from clerk.webhook_events where id = $1', [deadId]);
      expect(row.rows[0]!.status).toBe('dead');
    });

    it('refuses a wrong, empty or forged credential', async () => {
      const wrong = await fetch(`${admin.url}/admin/login`, { method: 'POST', body: new URLSearchParams({ token: `${TOKEN}x` }), redirect: 'manual' });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('set-cookie')).toBeNull();
      const empty = await fetch(`${admin.url}/admin/login`, { method: 'POST', body: new URLSearchParams({ token: '' }), redirect: 'manual' });
      expect(empty.status).toBe(401);
      expect((await fetch(`${admin.url}/admin/api/stats`, { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` } })).status).toBe(401);
      const { cookie } = await login(admin.url);
      const [name, value] = cookie.split('=') as [string, string];
      const [expires, nonce, mac] = value.split('.') as [string, string, string];
      const forged = [`${name}=${Number(expires) + 1e9}.${nonce}.${mac}`, `${name}=${expires}.${nonce}.${mac.slice(0, -2)}AA`, `${name}=garbage`];
      for (const c of forged) expect((await fetch(`${admin.url}/admin`, { headers: { cookie: c } })).status).toBe(401);
    });

    it('logs in with an HttpOnly, SameSite=Strict session cookie that expires', async () => {
      const { cookie, setCookie } = await login(admin.url);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      expect(setCookie).toMatch(/Path=\/admin/);
      expect(setCookie).not.toMatch(/Secure/);
      const page = await fetch(`${admin.url}/admin`, { headers: { cookie } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('cache-control')).toBe('no-store');
      const behindTls = await fetch(`${admin.url}/admin/login`, { method: 'POST', headers: { 'x-forwarded-proto': 'https' }, body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
      expect(behindTls.headers.get('set-cookie')).toMatch(/; Secure/);
      clock += 9 * 3600 * 1000;
      try {
        expect((await fetch(`${admin.url}/admin`, { headers: { cookie } })).status).toBe(401);
      } finally {
        clock -= 9 * 3600 * 1000;
      }
    });

    it('protects POST actions against CSRF and cross-site requests', async () => {
      const { cookie } = await login(admin.url);
      const csrf = await csrfFrom(admin.url, cookie);
      const replay = (headers: Record<string, string>, body: Record<string, string>) =>
        fetch(`${admin.url}/admin/events/${encodeURIComponent(deadId)}/replay`, { method: 'POST', headers: { cookie, ...headers }, body: new URLSearchParams(body), redirect: 'manual' });
      expect((await replay({}, {})).status).toBe(403);
      expect((await replay({}, { csrf: 'x'.repeat(43) })).status).toBe(403);
      expect((await replay({ origin: 'https://evil.example' }, { csrf })).status).toBe(403);
      const other = await login(admin.url);
      expect((await replay({ cookie: other.cookie }, { csrf })).status).toBe(403);
      expect((await database.db.query<{ status: string }>('select status from clerk.webhook_events where id = $1', [deadId])).rows[0]!.status).toBe('dead');
      const ok = await replay({ origin: admin.url }, { csrf });
      expect(ok.status).toBe(303);
      expect(ok.headers.get('location')).toContain('notice=replayed');
      expect((await database.db.query<{ status: string }>('select status from clerk.webhook_events where id = $1', [deadId])).rows[0]!.status).toBe('pending');
      const crossSiteLogin = await fetch(`${admin.url}/admin/login`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
      expect(crossSiteLogin.status).toBe(403);
      await drain(database.db);
    });

    it('shows an event whose timestamp no date holds and whose int8 passes 2^53, instead of a 500', async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      await database.db.query(
        `insert into clerk.webhook_events (id, type, clerk_timestamp, payload, status) values ('msg_huge', 'user.updated', 9007199254740993, '{"type":"user.updated","timestamp":1e16,"data":{"id":"user_huge"}}', 'dead')`,
      );
      try {
        const page = await fetch(`${admin.url}/admin/events/msg_huge`, { headers: auth });
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('not a date');
        const api = await fetch(`${admin.url}/admin/api/events?status=dead`, { headers: auth });
        expect(api.status).toBe(200);
        const huge = ((await api.json()) as { events: Array<{ id: string; clerk_timestamp: unknown }> }).events.find((e) => e.id === 'msg_huge')!;
        expect(String(huge.clerk_timestamp)).toBe('9007199254740993');
      } finally {
        await database.db.query(`delete from clerk.webhook_events where id = 'msg_huge'`);
      }
    });

    it('shows the latest backfill run and each listing on the overview and at /api/backfill', async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      expect(await (await fetch(`${admin.url}/admin/api/backfill`, { headers: auth })).json()).toEqual({ backfill: null });
      await database.db.query(`insert into clerk.backfill_runs (id, resources, status) values ('bf_admin', '{users}', 'open')`);
      await database.db.query(`insert into clerk.backfill_state (run_id, listing, position, total, listed, stored) values ('bf_admin', 'users', 500, 1200, 500, 480)`);
      try {
        const api = await (await fetch(`${admin.url}/admin/api/backfill`, { headers: auth })).json();
        expect(api.backfill).toMatchObject({ id: 'bf_admin', status: 'open', listings: [{ listing: 'users', position: 500, total: 1200, listed: 500, stored: 480 }] });
        const page = await (await fetch(`${admin.url}/admin`, { headers: auth })).text();
        expect(page).toContain('bf_admin');
        expect(page).toContain('500 of 1200');
        expect(page).toContain('continues it');
      } finally {
        await database.db.query(`delete from clerk.backfill_runs`);
      }
    });

    it('serves the JSON API to a bearer token, with personal fields masked unless asked', async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const stats = await (await fetch(`${admin.url}/admin/api/stats`, { headers: auth })).json();
      expect(stats.inbox.byStatus.dead).toBe(1);
      const events = await (await fetch(`${admin.url}/admin/api/events?type=user.created`, { headers: auth })).json();
      expect(events.events).toHaveLength(1);
      const id = events.events[0].id as string;
      const masked = await (await fetch(`${admin.url}/admin/api/events/${id}`, { headers: auth })).json();
      expect(masked.payload.data.first_name).toBe('••••••');
      expect(JSON.stringify(masked)).not.toContain('@example.com');
      const revealed = await (await fetch(`${admin.url}/admin/api/events/${id}?reveal=1`, { headers: auth })).json();
      expect(revealed.payload.data.email_addresses[0].email_address).toBe('user_xss@example.com');
      const replay = await fetch(`${admin.url}/admin/api/dead/replay`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ ids: [deadId] }) });
      expect(await replay.json()).toEqual({ replayed: 1 });
      await drain(database.db);
      const lookup = await (await fetch(`${admin.url}/admin/api/lookup?q=user_xss@example.com`, { headers: auth })).json();
      expect(lookup).toMatchObject({ kind: 'user', id: 'user_xss' });
      expect((await fetch(`${admin.url}/admin/api/lookup?q=nobody@example.com`, { headers: auth })).status).toBe(404);
    });

    it('escapes payload data in pages', async () => {
      const { cookie } = await login(admin.url);
      const page = await (await fetch(`${admin.url}/admin/lookup?q=user_xss`, { headers: { cookie } })).text();
      expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
      expect(page).not.toContain('<script>alert');
      expect(page).not.toContain('<img src=x');
      const search = await (await fetch(`${admin.url}/admin/lookup?q=${encodeURIComponent('"><script>1</script>')}`, { headers: { cookie } })).text();
      expect(search).not.toContain('<script>1</script>');
    });

    it('pages through the event log with a keyset cursor', async () => {
      for (let i = 0; i < 7; i++) await deliver(admin.url, userEvent('user.updated', `user_page_${i}`));
      const auth = { authorization: `Bearer ${TOKEN}` };
      const { cookie } = await login(admin.url);
      const seen: string[] = [];
      let next: string | null = `${admin.url}/admin/events?type=user.updated`;
      // 50 per page is the page size; a smaller filter shows the link logic on one page.
      const html = await (await fetch(next, { headers: { cookie } })).text();
      expect(html).not.toContain('Older →');
      const all = await (await fetch(`${admin.url}/admin/api/events?type=user.updated`, { headers: auth })).json();
      for (const e of all.events) seen.push(e.id);
      expect(new Set(seen).size).toBe(8);
      const last = all.events[3];
      next = `${admin.url}/admin/api/events?type=user.updated&before=${encodeURIComponent(`${last.received_key}~${last.id}`)}`;
      const older = await (await fetch(next, { headers: auth })).json();
      expect(older.events.map((e: { id: string }) => e.id)).toEqual(seen.slice(4));
    });
  });
}

describe('admin without a token', () => {
  it('is not there at all', async () => {
    const sync = createClerkSync({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', logger: false });
    const response = await sync.handleAdmin(new Request('http://localhost/admin'));
    expect(response.status).toBe(404);
    expect(() => createClerkSync({ adminToken: 'short', logger: false })).toThrow(/adminToken/);
  });
});
