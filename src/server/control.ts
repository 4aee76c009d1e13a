/**
 * The second terminal (decision 0010): PGlite serves one process, so while `clerk-sync serve`
 * holds the embedded database, `clerk-sync status` and `replay` in another terminal ask it
 * instead, over a Unix socket in the data folder (`control.sock`, mode 0600: only the folder's
 * owner, who could read the database files anyway). HTTP on that socket, JSON both ways:
 *
 * - GET `/status`: `{ stats, backfill }` (the inbox and outbox counts, the latest backfill run);
 * - POST `/replay`: `{ events?: ReplaySelector, outbox?: OutboxReplaySelector }` → `{ queued }`;
 * - GET `/events/<svix id>`: `{ event: { id, type, status } | null }` (`doctor --url` confirms its
 *   test delivery was stored; the payload stays out of it).
 *
 * Nothing else; no TCP port is opened.
 */
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { inboxEventState } from '../inbox/enqueue.js';
import { queueStats } from '../metrics/index.js';
import type { ClerkSync } from '../service/clerk-sync.js';

export const CONTROL_SOCKET = 'control.sock';

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, CONTROL_SOCKET);
}

const MAX_BODY = 64 * 1024;

/** Starts answering on `<dataDir>/control.sock`; the caller holds the data folder's lock, so a socket file there is a leftover. */
export async function startControlServer(sync: ClerkSync, dataDir: string): Promise<Server> {
  const path = controlSocketPath(dataDir);
  rmSync(path, { force: true });
  const server = createServer(async (req, res) => {
    const answer = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    try {
      if (req.method === 'GET' && req.url === '/status') {
        const db = await sync.db();
        return answer(200, { stats: await queueStats(db, sync.config.schema, { full: true }), backfill: await sync.backfillStatus() });
      }
      if (req.method === 'GET' && req.url?.startsWith('/events/')) {
        const id = decodeURIComponent(req.url.slice('/events/'.length));
        return answer(200, { event: await inboxEventState(await sync.db(), sync.config.schema, id) });
      }
      if (req.method === 'POST' && req.url === '/replay') {
        let text = '';
        for await (const chunk of req) {
          text += chunk;
          if (text.length > MAX_BODY) return answer(413, { error: 'too large' });
        }
        const body = JSON.parse(text) as { events?: Record<string, unknown>; outbox?: Record<string, unknown> };
        const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : undefined);
        if (body.outbox) return answer(200, { queued: await sync.replayOutbox(body.outbox) });
        if (body.events) return answer(200, { queued: await sync.replay({ ...body.events, since: date(body.events.since), until: date(body.events.until) }) });
        return answer(400, { error: 'say what to replay: events or outbox' });
      }
      answer(404, { error: 'not found' });
    } catch (error) {
      answer(500, { error: (error as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  server.on('close', () => rmSync(path, { force: true }));
  return server;
}

/** Asks the `serve` that holds `dataDir`; undefined when there is no such server to ask. */
export async function askServe<T>(dataDir: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T | undefined> {
  const socketPath = controlSocketPath(dataDir);
  if (!existsSync(socketPath)) return undefined;
  return new Promise<T | undefined>((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest({ socketPath, method, path, headers: text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {} }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (data += chunk));
      res.on('end', () => {
        const parsed = JSON.parse(data) as T & { error?: string };
        if (res.statusCode !== 200) reject(new Error(`the running clerk-sync serve answered ${res.statusCode}: ${parsed.error ?? data}`));
        else resolve(parsed);
      });
    });
    // A socket left by a server that is gone: there is nobody to ask.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? resolve(undefined) : reject(error)));
    req.setTimeout(10_000, () => req.destroy(new Error('the running clerk-sync serve did not answer within 10 s')));
    req.end(text);
  });
}
