/**
 * The standalone HTTP server of `clerk-sync serve`: the webhook path (twice: `/webhooks/clerk`
 * and `/api/webhooks/clerk`), health and readiness. Other stages add routes through `routes`.
 * Timeouts cut off slow clients that trickle headers or bodies.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorBody } from '../core/errors.js';
import { createNodeWebhookListener } from '../adapters/node.js';
import type { ClerkSync } from '../service/clerk-sync.js';

export const WEBHOOK_PATHS = ['/webhooks/clerk', '/api/webhooks/clerk'];

/** Extra routes: return true when the request was handled. */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface StandaloneServerOptions {
  routes?: Route[];
  /** @default 10000 */
  headersTimeoutMs?: number;
  /** @default 30000 */
  requestTimeoutMs?: number;
}

function json(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function createStandaloneServer(sync: ClerkSync, options: StandaloneServerOptions = {}): Server {
  const webhook = createNodeWebhookListener(sync);
  const routes = options.routes ?? [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
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
  });
  server.headersTimeout = options.headersTimeoutMs ?? 10_000;
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  server.keepAliveTimeout = 5_000;
  return server;
}
