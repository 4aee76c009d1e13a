/**
 * One contract suite run against every way of mounting the handler: the standalone server,
 * Next.js (`clerk-sync/next`), Express with the route before any body parser, and Express with
 * `express.json()` mounted globally before the route.
 */
import express from 'express';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clerkSyncExpress } from '../../src/adapters/express.js';
import { createNextRoute } from '../../src/adapters/next.js';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { signEvent } from '../../src/testing/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { listen, post, startServer } from '../support/http.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

// Text that a JSON re-serialisation changes: whitespace, Go-style escapes of <, > and &.
const PRETTY_BODY = '{\n  "type": "user.created",\n  "object": "event",\n  "data": { "id": "user_pretty", "first_name": "A" }\n}';
const GO_ESCAPED_BODY = '{"type":"user.created","object":"event","data":{"id":"user_go","bio":"\\u003cb\\u003eR\\u0026D\\u003c/b\\u003e"}}';

type Mount = (sync: ClerkSync) => Promise<{ url: string; close(): Promise<void> }>;

const closeServer = (server: Server) => () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });

const mounts: Record<string, Mount> = {
  standalone: async (sync) => {
    const s = await startServer(sync);
    return { url: `${s.url}/webhooks/clerk`, close: s.close };
  },
  next: async (sync) => {
    const { POST } = createNextRoute(sync);
    // A minimal host that hands Next's route handler a web Request, as the App Router does.
    const app = express();
    app.all('/api/webhooks/clerk', async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const request = new Request(`http://localhost${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined });
      const response = req.method === 'POST' ? await POST(request) : await sync.handleWebhook(request);
      res.status(response.status);
      response.headers.forEach((v, k) => res.setHeader(k, v));
      res.send(Buffer.from(await response.arrayBuffer()));
    });
    const server = app.listen(0, '127.0.0.1');
    const base = await listen(server);
    return { url: `${base}/api/webhooks/clerk`, close: closeServer(server) };
  },
  'express (route first)': async (sync) => {
    const app = express();
    // app.all: other methods reach the handler and get its 405 (app.post would leave them to Express' 404).
    app.all('/api/webhooks/clerk', clerkSyncExpress(sync));
    app.use(express.json());
    const server = app.listen(0, '127.0.0.1');
    const base = await listen(server);
    return { url: `${base}/api/webhooks/clerk`, close: closeServer(server) };
  },
  'express (global express.json() first)': async (sync) => {
    const app = express();
    app.use(express.json());
    app.post('/api/webhooks/clerk', clerkSyncExpress(sync));
    const server = app.listen(0, '127.0.0.1');
    const base = await listen(server);
    return { url: `${base}/api/webhooks/clerk`, close: closeServer(server) };
  },
  // Exactly as the seeds' apps mount their hand-written route.
  'express (raw: express.raw({ type: "application/json" }) on the route)': async (sync) => {
    const app = express();
    app.post('/api/webhooks/clerk', express.raw({ type: 'application/json' }), clerkSyncExpress(sync));
    app.use(express.json());
    const server = app.listen(0, '127.0.0.1');
    const base = await listen(server);
    return { url: `${base}/api/webhooks/clerk`, close: closeServer(server) };
  },
  'express (json with verify saving rawBody)': async (sync) => {
    const app = express();
    app.use(express.json({ verify: (req, _res, buf) => { (req as unknown as { rawBody: Buffer }).rawBody = buf; } }));
    app.post('/api/webhooks/clerk', clerkSyncExpress(sync));
    const server = app.listen(0, '127.0.0.1');
    const base = await listen(server);
    return { url: `${base}/api/webhooks/clerk`, close: closeServer(server) };
  },
};

const backend = backends[0]!;

for (const [name, mount] of Object.entries(mounts)) {
  describe(`adapter: ${name}`, () => {
    let database: TestDatabase;
    let sync: ClerkSync;
    let target: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      database = await backend.create();
      sync = createClerkSync({ db: database.db, secret: SECRET, logger: false });
      target = await mount(sync);
    });
    afterAll(async () => {
      await target.close();
      await database.drop();
    });

    it('stores a signed event', async () => {
      const e = signEvent({ secret: SECRET, event: { type: 'user.created', data: { id: 'user_1' } } });
      const res = await post(target.url, e.body, e.headers);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ received: true, id: e.id });
      const again = await post(target.url, e.body, e.headers);
      expect(again.json.duplicate).toBe(true);
    });

    it('rejects a bad signature with 400 and stores nothing', async () => {
      const e = signEvent({ secret: SECRET, event: { type: 'user.created', data: { id: 'user_bad' } } });
      const res = await post(target.url, e.body.replace('user_bad', 'user_evil'), e.headers);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('invalid_signature');
      const rows = await database.db.query(`select 1 from clerk.webhook_events where id = $1`, [e.id]);
      expect(rows.rowCount).toBe(0);
    });

    it('verifies Go-escaped JSON bytes', async () => {
      const e = signEvent({ secret: SECRET, event: GO_ESCAPED_BODY });
      const res = await post(target.url, e.body, e.headers);
      expect(res.status).toBe(200);
    });

    it('answers 405 to GET where the route takes every method', async () => {
      const res = await fetch(target.url);
      expect(res.status).toBe(name.startsWith('express (global') || name.startsWith('express (json') || name.startsWith('express (raw') ? 404 : 405);
    });

    it('refuses a body over the limit with 413', async () => {
      const big = JSON.stringify({ type: 'user.created', data: { pad: 'x'.repeat(1024 * 1024) } });
      const e = signEvent({ secret: SECRET, event: big });
      const res = await post(target.url, e.body, e.headers);
      expect(res.status).toBe(413);
    });

    if (!name.startsWith('express (global')) {
      it('verifies pretty-printed bodies on the exact bytes', async () => {
        const e = signEvent({ secret: SECRET, event: PRETTY_BODY });
        const res = await post(target.url, e.body, e.headers);
        expect(res.status).toBe(200);
      });
    }
  });
}
