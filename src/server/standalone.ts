/**
 * The standalone HTTP server of `clerk-sync serve`: the webhook path (twice: `/webhooks/clerk`
 * and `/api/webhooks/clerk`), health and readiness. Other stages add routes through `routes`.
 * Timeouts cut off slow clients that trickle headers or bodies, the header section is capped
 * (431 from the runtime), and no request, however malformed, can throw out of the listener:
 * an exception there would be an unhandled rejection, which ends a Node process.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorBody } from '../core/errors.js';
import { createNodeWebhookListener, readNodeBody } from '../adapters/node.js';
import type { ClerkSync } from '../service/clerk-sync.js';

export const WEBHOOK_PATHS = ['/webhooks/clerk', '/api/webhooks/clerk'];

/** Extra routes: return true when the request was handled. */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface StandaloneServerOptions {
  routes?: Route[];
  /** Time allowed to send the headers. @default config.http.headersTimeoutMs (10000) */
  headersTimeoutMs?: number;
  /** Time allowed to send the whole request. @default config.http.requestTimeoutMs (30000) */
  requestTimeoutMs?: number;
  /** Largest header section in bytes. @default config.http.maxHeaderBytes (16384) */
  maxHeaderBytes?: number;
  /** Idle keep-alive connections are closed after this. @default config.http.keepAliveTimeoutMs (5000) */
  keepAliveTimeoutMs?: number;
}

function json(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A route for a web-standard handler (`/metrics`, `/admin`): every request whose path is `prefix`
 * or below it becomes a `Request` (body read up to `maxBodyBytes`) and the `Response` is written back.
 */
export function webRoute(prefix: string, handler: (request: Request, context?: { clientIp?: string }) => Promise<Response>, maxBodyBytes = 64 * 1024): Route {
  return async (req, res, url) => {
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return false;
    const method = req.method ?? 'GET';
    // The fetch API refuses these methods: building the Request would throw.
    if (method === 'CONNECT' || method === 'TRACE' || method === 'TRACK') {
      json(res, 405, errorBody('method_not_allowed'));
      return true;
    }
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readNodeBody(req, maxBodyBytes);
    if (body === 'too_large') {
      json(res, 413, errorBody('payload_too_large'));
      return true;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    // The Host header is the client's to write: anything but a plain host[:port] could not be parsed or would move the path.
    const host = req.headers.host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(req.headers.host) ? req.headers.host : 'localhost';
    // The peer address goes along: the only one nobody can forge (the admin's login throttle keys on it).
    const response = await handler(new Request(`http://${host}${url.pathname}${url.search}`, { method, headers, body: body as BodyInit | undefined }), { clientIp: req.socket.remoteAddress });
    const out: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') out[name] = value;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) out['set-cookie'] = cookies;
    const payload = Buffer.from(await response.arrayBuffer());
    out['content-length'] = String(payload.length);
    res.writeHead(response.status, out);
    res.end(method === 'HEAD' ? undefined : payload);
    return true;
  };
}

export function createStandaloneServer(sync: ClerkSync, options: StandaloneServerOptions = {}): Server {
  // A long-running server counts from its start (metrics are created on first use).
  void sync.metrics;
  const webhook = createNodeWebhookListener(sync);
  const routes = options.routes ?? [];
  const requestTimeout = options.requestTimeoutMs ?? sync.config.http.requestTimeoutMs;
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(options.headersTimeoutMs ?? sync.config.http.headersTimeoutMs, requestTimeout);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      // A request target such as "//" or "//[" is no URL at all.
      return json(res, 404, errorBody('not_found'));
    }
    if (WEBHOOK_PATHS.includes(url.pathname)) return webhook(req, res);
    if (url.pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) return json(res, 200, '{"ok":true}');
    if (url.pathname === '/readyz' && (req.method === 'GET' || req.method === 'HEAD')) {
      const readiness = await sync.readiness();
      return json(res, readiness.ok ? 200 : 503, JSON.stringify(readiness));
    }
    for (const route of routes) {
      if (await route(req, res, url)) return;
    }
    json(res, 404, errorBody('not_found'));
  };
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      maxHeaderSize: options.maxHeaderBytes ?? sync.config.http.maxHeaderBytes,
      // Timeouts are only enforced at each check; Node's default of 30 s would let short timeouts overrun.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        sync.logger.error({ err: { message: (error as Error)?.message } }, 'request failed');
        if (!res.headersSent) json(res, 500, errorBody('internal_error'));
        else res.destroy();
      });
    },
  );
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? sync.config.http.keepAliveTimeoutMs;
  return server;
}
