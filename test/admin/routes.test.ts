/**
 * The admin's route table and its one guard, on the handler itself (no database: a handler that
 * ran where the guard should have refused would reach for it and answer 500). Both checks iterate
 * over the table, so a route added later cannot skip authentication or the CSRF check.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { createAdminHandler } from '../../src/admin/index.js';
import { adminRoutes } from '../../src/admin/routes.js';
import { TOKEN } from './support.js';

const ORIGIN = 'http://admin.test';

function setUp() {
  const replayed: string[][] = [];
  let outboxReplays = 0;
  const handle = createAdminHandler({
    db: () => Promise.reject(new Error('the guard let a refused request reach the database')),
    schema: 'clerk',
    token: TOKEN,
    replayEvents: async (ids) => {
      replayed.push([...ids]);
      return ids.length;
    },
    replayOutbox: async () => {
      outboxReplays++;
      return 0;
    },
    logger: createLogger('silent'),
  });
  return { handle, replayed, outboxReplays: () => outboxReplays };
}

/** A route's path with each `:name` segment filled in. */
const concrete = (path: string) => `/admin${path.replace(/:[a-z]+/g, 'msg_route_test')}`;

async function sessionOf(handle: ReturnType<typeof setUp>['handle']): Promise<{ cookie: string; csrf: string }> {
  const login = await handle(new Request(`${ORIGIN}/admin/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }) }));
  expect(login.status).toBe(303);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  // Every page's forms carry the same session-bound token; the 404 page is one that needs no database.
  const page = await (await handle(new Request(`${ORIGIN}/admin/nope`, { headers: { cookie } }))).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  return { cookie, csrf: csrf ?? '' };
}

describe('admin route table', () => {
  it('refuses every private route, with every method it has, without credentials (401) or with a wrong bearer token', async () => {
    const { handle, replayed } = setUp();
    const privateRoutes = adminRoutes.filter((route) => !route.public);
    expect(privateRoutes.length).toBeGreaterThan(10);
    for (const [i, route] of privateRoutes.entries()) {
      // One address per route, so the wrong-token throttle (429 past ten) stays out of the way.
      const client = { clientIp: `10.0.0.${i + 1}` };
      const url = `${ORIGIN}${concrete(route.path)}`;
      const bare = await handle(new Request(url, { method: route.method, ...(route.method === 'POST' ? { body: new URLSearchParams({ id: 'msg_route_test' }) } : {}) }));
      expect(bare.status, `${route.method} ${route.path}`).toBe(401);
      const wrong = await handle(new Request(url, { method: route.method, headers: { authorization: `Bearer ${TOKEN}x` } }), client);
      expect(wrong.status, `${route.method} ${route.path} with a wrong token`).toBe(401);
      const forged = await handle(new Request(url, { method: route.method, headers: { cookie: 'clerk_sync_admin=99999999999999.nonce.mac' } }));
      expect(forged.status, `${route.method} ${route.path} with a forged cookie`).toBe(401);
    }
    expect(replayed).toEqual([]);
  });

  it('refuses every state-changing route a cookie POST without the CSRF token, or from another site (403)', async () => {
    const { handle, replayed, outboxReplays } = setUp();
    const { cookie, csrf } = await sessionOf(handle);
    expect(csrf).not.toBe('');
    const posts = adminRoutes.filter((route) => route.method === 'POST');
    expect(posts.length).toBeGreaterThan(5);
    for (const route of posts) {
      const url = `${ORIGIN}${concrete(route.path)}`;
      const body = { id: 'msg_route_test', token: TOKEN };
      const crossSite = await handle(new Request(url, { method: 'POST', headers: { cookie, origin: 'https://evil.example' }, body: new URLSearchParams({ ...body, csrf }) }));
      expect(crossSite.status, `${route.path} from another site`).toBe(403);
      expect(crossSite.headers.get('set-cookie'), route.path).toBeNull();
      if (route.public) continue;
      const withoutToken = await handle(new Request(url, { method: 'POST', headers: { cookie, origin: ORIGIN }, body: new URLSearchParams(body) }));
      expect(withoutToken.status, `${route.path} without the CSRF token`).toBe(403);
      const wrongToken = await handle(new Request(url, { method: 'POST', headers: { cookie, 'x-csrf-token': `${csrf.slice(0, -2)}AA` }, body: new URLSearchParams(body) }));
      expect(wrongToken.status, `${route.path} with a wrong CSRF token`).toBe(403);
      expect((await withoutToken.json()).error.code).toBe('forbidden');
    }
    expect(replayed).toEqual([]);
    expect(outboxReplays()).toBe(0);
  });

  it('answers 404 to a path no route has, once authenticated', async () => {
    const { handle } = setUp();
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const page = await handle(new Request(`${ORIGIN}/admin/nope`, { headers: bearer }));
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toContain('text/html');
    const api = await handle(new Request(`${ORIGIN}/admin/api/nope`, { headers: bearer }));
    expect(api.status).toBe(404);
    expect((await api.json()).error.code).toBe('not_found');
    expect((await handle(new Request(`${ORIGIN}/admin/nope/replay`, { method: 'POST', headers: bearer }))).status).toBe(404);
    expect((await handle(new Request(`${ORIGIN}/admin/events/a/b`, { headers: bearer }))).status).toBe(404);
    // Percent-encoding that decodes to nothing names no event (this used to throw into a 500).
    expect((await handle(new Request(`${ORIGIN}/admin/events/%E0%A4%A`, { headers: bearer }))).status).toBe(404);
    expect((await handle(new Request(`${ORIGIN}/elsewhere`, { headers: bearer }))).status).toBe(404);
  });

  it('answers 405 with Allow to a method the path does not have', async () => {
    const { handle, replayed } = setUp();
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const cases: Array<[string, string, string]> = [
      ['GET', '/admin/dead/replay', 'POST'],
      ['DELETE', '/admin/events', 'GET, HEAD'],
      ['POST', '/admin/api/stats', 'GET, HEAD'],
      ['PUT', '/admin/events/msg_1/replay', 'POST'],
      ['PATCH', '/admin/login', 'POST, GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const response = await handle(new Request(`${ORIGIN}${path}`, { method, headers: bearer }));
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect((await response.json()).error.code).toBe('method_not_allowed');
    }
    expect(replayed).toEqual([]);
  });

  it('answers 413 to a login or replay body over its limit, declared or streamed, and changes nothing', async () => {
    const { handle, replayed } = setUp();
    const big = new URLSearchParams({ token: TOKEN, pad: 'x'.repeat(100_000) }).toString();
    const declared = await handle(new Request(`${ORIGIN}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: big }));
    expect(declared.status).toBe(413);
    expect((await declared.json()).error.code).toBe('payload_too_large');
    expect(declared.headers.get('set-cookie')).toBeNull();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode(i === 0 ? `token=${TOKEN}&pad=` : 'x'.repeat(8192)));
        controller.close();
      },
    });
    const streamed = await handle(new Request(`${ORIGIN}/admin/login`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit));
    expect(streamed.status).toBe(413);
    expect(streamed.headers.get('set-cookie')).toBeNull();

    const ids = Array.from({ length: 3000 }, (_, i) => `msg_${String(i).padStart(20, '0')}`);
    const replay = await handle(
      new Request(`${ORIGIN}/admin/api/dead/replay`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ ids }) }),
    );
    expect(replay.status).toBe(413);
    expect(replayed).toEqual([]);
    // Within the limit the same route works: 500 ids is the most one request replays.
    const ok = await handle(
      new Request(`${ORIGIN}/admin/api/dead/replay`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ ids: ids.slice(0, 600) }) }),
    );
    expect(await ok.json()).toEqual({ replayed: 500 });
  });
});
