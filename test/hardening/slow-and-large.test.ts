/**
 * Resource limits of the standalone server: slow clients are cut off by the (configurable)
 * timeouts, oversized header sections and bodies are refused early, and malformed requests never
 * take the process down.
 * @see issue #7
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { createStandaloneServer, webRoute } from '../../src/server/standalone.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { listen } from '../support/http.js';
import { eventBody, send, signed, SECRET } from './support.js';

const HEADERS_TIMEOUT = 400;
const REQUEST_TIMEOUT = 900;
const KEEP_ALIVE = 1500;

let database: TestDatabase;
let sync: ClerkSync;
let base: string;
let port: number;
let close: () => Promise<void>;

beforeAll(async () => {
  database = await backends[0]!.create();
  sync = createClerkSync({
    db: database.db,
    secret: SECRET,
    logger: false,
    maxBodyBytes: 64 * 1024,
    rateLimit: { failed: 0 },
    http: { headersTimeoutMs: HEADERS_TIMEOUT, requestTimeoutMs: REQUEST_TIMEOUT, maxHeaderBytes: 4096, keepAliveTimeoutMs: KEEP_ALIVE },
  });
  const server = createStandaloneServer(sync, { routes: [webRoute('/metrics', sync.handleMetrics)] });
  base = await listen(server);
  port = Number(new URL(base).port);
  close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
});
afterAll(async () => {
  await close();
  await sync.close();
  await database.drop();
});

const stored = async () => Number((await database.db.query<{ n: string }>('select count(*) as n from clerk.webhook_events')).rows[0]!.n);

/** Opens a raw connection; resolves when the server closes it, with what it wrote and after how long. */
function rawConnection(): { socket: Socket; closed: Promise<{ ms: number; data: string }> } {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<{ ms: number; data: string }>((resolve) => socket.once('close', () => resolve({ ms: Date.now() - started, data })));
  return { socket, closed };
}

function trickle(socket: Socket, text: string, everyMs: number): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (i >= text.length || socket.destroyed) return clearInterval(timer);
    socket.write(text[i++]!);
  }, everyMs);
  return () => clearInterval(timer);
}

describe('slow clients', () => {
  it('a connection that sends nothing is closed after the headers timeout', async () => {
    const { closed } = rawConnection();
    const { ms } = await closed;
    expect(ms).toBeLessThan(HEADERS_TIMEOUT + 1500);
  });

  it('headers trickled byte by byte are cut off by the headers timeout', async () => {
    const { socket, closed } = rawConnection();
    const stop = trickle(socket, `POST /webhooks/clerk HTTP/1.1\r\nhost: x\r\n${'x-slow: 1\r\n'.repeat(100)}\r\n`, 20);
    const { ms, data } = await closed;
    stop();
    expect(ms).toBeLessThan(HEADERS_TIMEOUT + 1500);
    if (data) expect(data).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a body trickled byte by byte is cut off by the request timeout, and nothing is stored', async () => {
    const body = eventBody('user_slow');
    const d = signed('msg_slow', body);
    const { socket, closed } = rawConnection();
    const head = Object.entries({ ...d.headers, host: 'x', 'content-length': String(Buffer.byteLength(body)) })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`POST /webhooks/clerk HTTP/1.1\r\n${head}\r\n`);
    const stop = trickle(socket, body, 20);
    const { ms, data } = await closed;
    stop();
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 50);
    expect(ms).toBeLessThan(REQUEST_TIMEOUT + 1500);
    if (data) expect(data).toMatch(/^HTTP\/1\.1 408/);
    expect(await stored()).toBe(0);
    // The server is unharmed.
    expect((await send(`${base}/webhooks/clerk`, signed('msg_after_slow', eventBody('u')))).status).toBe(200);
  });

  it('an idle keep-alive connection lives for the keep-alive timeout, longer than the request timeouts', async () => {
    const { socket, closed } = rawConnection();
    let answeredAt = 0;
    socket.once('data', () => (answeredAt = Date.now()));
    socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await closed;
    const idle = Date.now() - answeredAt;
    expect(idle).toBeGreaterThanOrEqual(KEEP_ALIVE - 50);
    expect(idle).toBeLessThan(KEEP_ALIVE + 2000);
  });

  it('a client that vanishes mid-body costs nothing', async () => {
    for (let i = 0; i < 20; i++) {
      const { socket, closed } = rawConnection();
      socket.write(`POST /webhooks/clerk HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\n\r\n${'{'.repeat(100)}`);
      setTimeout(() => socket.destroy(), 5);
      await closed;
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});

describe('large input', () => {
  it('a header section over the cap gets 431 from the runtime', async () => {
    const d = signed('msg_hdr', eventBody('u'));
    expect((await send(`${base}/webhooks/clerk`, { headers: { ...d.headers, 'x-pad': 'x'.repeat(5000) }, body: d.body })).status).toBe(431);
    expect((await send(`${base}/webhooks/clerk`, { headers: { ...d.headers, 'x-pad': 'x'.repeat(2000) }, body: d.body })).status).toBe(200);
  });

  it('many small headers within the cap are fine', async () => {
    const d = signed('msg_many', eventBody('u'));
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-h${i}`, '1']));
    expect((await send(`${base}/webhooks/clerk`, { headers: { ...many, ...d.headers }, body: d.body })).status).toBe(200);
  });

  it('a declared body over the limit is refused before it is sent', async () => {
    const { socket, closed } = rawConnection();
    socket.write(`POST /webhooks/clerk HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${100 * 1024 * 1024}\r\n\r\n`);
    const { data, ms } = await closed;
    expect(data).toMatch(/^HTTP\/1\.1 413/);
    expect(data).toMatch(/payload_too_large/);
    expect(ms).toBeLessThan(1000);
  });

  it('a chunked body is cut off once past the limit, without reading the rest', async () => {
    const { socket, closed } = rawConnection();
    socket.write(`POST /webhooks/clerk HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n`);
    const chunk = 'a'.repeat(16 * 1024);
    let sent = 0;
    let answered = false;
    socket.once('data', () => (answered = true));
    while (!answered && !socket.destroyed && sent < 8 * 1024 * 1024) {
      socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      sent += chunk.length;
      await new Promise((r) => setTimeout(r, 2));
    }
    const { data } = await closed;
    expect(data).toMatch(/^HTTP\/1\.1 413/);
    expect(sent).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('malformed requests never take the process down', () => {
  const raw = async (text: string): Promise<string> => {
    const { socket, closed } = rawConnection();
    socket.end(text);
    return (await closed).data;
  };

  it.each([
    ['an empty authority target', 'GET // HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['a broken IPv6 authority target', 'POST //[ HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n'],
    ['a backslash target', 'GET /\\\\ HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['an asterisk target', 'OPTIONS * HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['an absolute-form target', 'GET http://evil.example/webhooks/clerk HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['garbage instead of HTTP', '\x00\x01\x02 hello\r\n\r\n'],
    ['a bad chunk size', 'POST /webhooks/clerk HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'],
    ['conflicting lengths', 'POST /webhooks/clerk HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello'],
    ['TRACE on a web-standard route', 'TRACE /metrics HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['an unparsable Host on a web-standard route', 'GET /metrics HTTP/1.1\r\nhost: [\r\n\r\n'],
    ['a Host that carries a path', 'GET /metrics HTTP/1.1\r\nhost: a/admin?\r\n\r\n'],
  ])('%s', async (_name, text) => {
    const answer = await raw(text);
    expect(answer).not.toMatch(/^HTTP\/1\.1 5\d\d/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
