/**
 * A frozen database: it accepts connections (or keeps the ones it has) and never answers. Each
 * delivery is answered 503 within its deadline (`deliveryTimeoutMs`) and `/readyz` within
 * `readyTimeoutMs`; nothing is answered 2xx that was not committed; once the database answers
 * again the service recovers by itself and the redelivery is stored once.
 *
 * Two frozen databases, both real TCP on 127.0.0.1: a server that accepts connections and never
 * says a byte (frozen before the first connection), and a proxy in front of the real Postgres that
 * stops forwarding in both directions without closing anything (frozen mid-flight, with the pool's
 * connections open).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { createStandaloneServer } from '../../src/server/standalone.js';
import { signedHeaders } from '../../src/verify/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { nowSeconds, SECRET, send } from './support.js';

const postgres = backends.find((b) => b.name === 'postgres');

/** Accepts every connection and never writes a byte. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface FreezableProxy {
  port: number;
  /** Stops forwarding in both directions; bytes are held, nothing is closed. */
  freeze(): void;
  /** Forwards what was held, then everything again. */
  thaw(): void;
  close(): Promise<void>;
}

async function freezableProxy(targetPort: number): Promise<FreezableProxy> {
  let frozen = false;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const pipe = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (frozen) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
    from.on('close', () => (frozen ? held.push(() => to.destroy()) : to.destroy()));
    from.on('error', () => {});
  };
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const release of held.splice(0)) release();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function listen(sync: ClerkSync): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createStandaloneServer(sync);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function delivery(id: string): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ type: 'user.updated', object: 'event', timestamp: Date.now(), data: { id: `user_${id}`, object: 'user', updated_at: Date.now() } });
  return { body, headers: { 'content-type': 'application/json', ...signedHeaders({ id, timestamp: nowSeconds(), body, secret: SECRET }) } };
}

/** Sends and times a request; the client itself gives up only well after any deadline here. */
async function timed(url: string, options: Parameters<typeof send>[1] = {}) {
  const started = performance.now();
  const answer = await send(url, { timeoutMs: 120_000, ...options });
  return { ...answer, ms: performance.now() - started };
}

const withPort = (url: string, port: number): string => {
  const u = new URL(url);
  u.host = `127.0.0.1:${port}`;
  return u.toString();
};

describe('a database that accepts connections and never answers', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  let sync: ClerkSync;
  let http: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    silent = await silentServer();
    sync = createClerkSync({ databaseUrl: `postgres://postgres@127.0.0.1:${silent.port}/clerk`, secret: SECRET, logger: false, deliveryTimeoutMs: 1500, readyTimeoutMs: 1000 });
    http = await listen(sync);
  });
  afterAll(async () => {
    await http.close();
    await sync.close().catch(() => {});
    await silent.close();
  });

  it('answers a delivery 503 database_unavailable at its deadline, and /readyz 503 at its timeout, without the driver\'s text', async () => {
    const { body, headers } = delivery('msg_silent_1');
    const answer = await timed(`${http.url}/webhooks/clerk`, { body, headers });
    expect(answer.status).toBe(503);
    expect(answer.json.error.code).toBe('database_unavailable');
    expect(answer.ms).toBeGreaterThanOrEqual(1400);
    expect(answer.ms).toBeLessThan(1500 + 1500);
    const ready = await timed(`${http.url}/readyz`, { method: 'GET' });
    expect(ready.status).toBe(503);
    expect(ready.json).toEqual({ ok: false, database: 'unreachable', pendingMigrations: [], message: 'database did not answer within 1000 ms' });
    expect(ready.ms).toBeLessThan(1000 + 1500);
  });
});

describe.skipIf(!postgres)('a database that stops answering mid-flight (a frozen proxy before Postgres)', () => {
  let database: TestDatabase;
  let proxy: FreezableProxy;
  const running: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    database = await postgres!.create();
    proxy = await freezableProxy(Number(new URL(database.url!).port || 5432));
  });
  afterEach(async () => {
    proxy.thaw();
    for (const stop of running.splice(0).reverse()) await stop().catch(() => {});
  });
  afterAll(async () => {
    await proxy.close();
    await database.drop();
  });

  async function start(options: { deliveryTimeoutMs?: number; readyTimeoutMs?: number }) {
    const sync = createClerkSync({ databaseUrl: withPort(database.url!, proxy.port), secret: SECRET, logger: false, ...options });
    running.push(() => sync.close());
    const http = await listen(sync);
    running.push(http.close);
    return http;
  }
  const stored = async (id: string) => Number((await database.db.query<{ n: string }>('select count(*) as n from clerk.webhook_events where id = $1', [id])).rows[0]!.n);

  it('answers 503 within the deadline, /readyz 503 within its timeout, recovers on thaw and stores the redelivery once', async () => {
    const http = await start({ deliveryTimeoutMs: 2000, readyTimeoutMs: 1000 });
    const warm = delivery('msg_frozen_warm');
    expect((await timed(`${http.url}/webhooks/clerk`, warm)).status).toBe(200);

    proxy.freeze();
    const frozen = delivery('msg_frozen_1');
    const [answer, ready] = await Promise.all([timed(`${http.url}/webhooks/clerk`, frozen), timed(`${http.url}/readyz`, { method: 'GET' })]);
    expect(answer.status).toBe(503);
    expect(answer.json.error.code).toBe('database_unavailable');
    expect(answer.ms).toBeLessThan(2000 + 1500);
    expect(ready.status).toBe(503);
    expect(ready.json.database).toBe('unreachable');
    expect(ready.ms).toBeLessThan(1000 + 1500);

    // The statements held in the proxy reach Postgres now: the 503'd delivery may be committed after all.
    proxy.thaw();
    let again = await timed(`${http.url}/webhooks/clerk`, frozen);
    for (let i = 0; again.status !== 200 && i < 20; i++) again = await timed(`${http.url}/webhooks/clerk`, frozen);
    expect(again.status).toBe(200);
    expect(await stored('msg_frozen_1')).toBe(1);
    expect((await timed(`${http.url}/readyz`, { method: 'GET' })).status).toBe(200);
    const after = delivery('msg_frozen_after');
    expect((await timed(`${http.url}/webhooks/clerk`, after)).json).toEqual({ received: true, id: 'msg_frozen_after' });
  });

  it('with the defaults: the delivery answers 503 within 30 s and /readyz within 3 s', async () => {
    const http = await start({});
    expect((await timed(`${http.url}/webhooks/clerk`, delivery('msg_default_warm'))).status).toBe(200);
    proxy.freeze();
    const [answer, ready] = await Promise.all([timed(`${http.url}/webhooks/clerk`, delivery('msg_default_1')), timed(`${http.url}/readyz`, { method: 'GET' })]);
    expect(answer.status).toBe(503);
    expect(answer.ms).toBeLessThan(30_000 + 2000);
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(3000 + 1500);
    console.log(`frozen database, defaults: delivery answered ${answer.status} in ${Math.round(answer.ms)} ms, /readyz ${ready.status} in ${Math.round(ready.ms)} ms`);
  }, 45_000);
});
