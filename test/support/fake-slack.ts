/**
 * A local stand-in for a Slack incoming webhook on loopback: `POST <path>` with a JSON body
 * `{ text, blocks? }` answers 200 with the body `ok`; errors come back as plain text codes the
 * way Slack sends them (400 invalid_payload / no_text, 404 no_service, 410 channel_is_archived,
 * 403 action_prohibited, 429 with Retry-After, 500). Only `path` is a live hook.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackPost {
  path: string;
  contentType: string | undefined;
  body: any;
  at: number;
}

export type SlackScripted =
  | { status: 429; retryAfter?: string }
  | { status: 400 | 403 | 404 | 410 | 500 | 503; text?: string }
  | { status: 'hang' }
  | { status: 'destroy' };

export interface FakeSlack {
  /** The webhook URL to configure. */
  url: string;
  path: string;
  /** Every POST received (including failed ones). */
  posts: SlackPost[];
  /** Messages accepted (answered `ok`). */
  messages: SlackPost[];
  failNext(...answers: SlackScripted[]): void;
  delayMs: number;
  /** Requests received and not answered yet. */
  readonly inFlight: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeSlack(options: { path?: string; port?: number } = {}): Promise<FakeSlack> {
  const path = options.path ?? '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
  const posts: SlackPost[] = [];
  const messages: SlackPost[] = [];
  const script: SlackScripted[] = [];
  const hanging = new Set<ServerResponse>();
  const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: any;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = undefined;
    }
    const post: SlackPost = { path: req.url ?? '', contentType: req.headers['content-type'], body, at: Date.now() };
    posts.push(post);
    if (req.method !== 'POST') return text(res, 405, 'invalid_method');
    if (req.url !== path) return text(res, 404, 'no_service');
    const scripted = script.shift();
    if (scripted) {
      if (scripted.status === 'hang') return void hanging.add(res);
      if (scripted.status === 'destroy') return void res.socket?.destroy();
      if (scripted.status === 429) return text(res, 429, 'rate_limited', scripted.retryAfter === undefined ? {} : { 'retry-after': scripted.retryAfter });
      const defaults: Record<number, string> = { 400: 'invalid_payload', 403: 'action_prohibited', 404: 'no_service', 410: 'channel_is_archived', 500: 'internal_error', 503: 'service_unavailable' };
      return text(res, scripted.status, scripted.text ?? defaults[scripted.status] ?? 'error');
    }
    if (!body || typeof body !== 'object') return text(res, 400, 'invalid_payload');
    if (typeof body.text !== 'string' && !Array.isArray(body.blocks)) return text(res, 400, 'no_text');
    if (fake.delayMs > 0) await new Promise((r) => setTimeout(r, fake.delayMs));
    messages.push(post);
    text(res, 200, 'ok');
  };
  let inFlight = 0;
  const server: Server = createServer((req, res) => {
    inFlight++;
    res.once('close', () => inFlight--);
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const fake: FakeSlack = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    path,
    posts,
    messages,
    delayMs: 0,
    get inFlight() {
      return inFlight;
    },
    failNext: (...answers) => void script.push(...answers),
    reset() {
      posts.length = 0;
      messages.length = 0;
      script.length = 0;
      fake.delayMs = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return fake;
}
