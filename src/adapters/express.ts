/**
 * `clerk-sync/express`: `app.post('/api/webhooks/clerk', clerkSyncExpress(sync))`.
 *
 * Verification needs the exact bytes Svix signed. In order of preference the handler uses:
 * the unread request stream (route mounted before any body parser), `req.rawBody` (set by
 * `express.json({ verify: (req, _res, buf) => { req.rawBody = buf } })`), a Buffer or string
 * `req.body` (`express.raw()` / `express.text()`). When a global `express.json()` already
 * consumed the stream, the body is re-serialised the way Clerk's sender writes JSON and the
 * signature is checked against that; a forged body still cannot match the HMAC, so this only
 * ever accepts what Svix signed. Mounting the route before `express.json()` is the sure way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { headerLookup, readNodeBody, writeAnswer, type NodeBody, type WebhookReceiver } from './node.js';

type ExpressRequest = IncomingMessage & { body?: unknown; rawBody?: unknown; _body?: boolean };
type Next = (error?: unknown) => void;

const encoder = new TextEncoder();

/** Clerk's sender (Go's encoding/json) escapes <, > and & and the JS line separators. */
function goStyleJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function reserialised(body: unknown): Uint8Array[] {
  const plain = JSON.stringify(body);
  const go = goStyleJson(body);
  return plain === go ? [encoder.encode(plain)] : [encoder.encode(go), encoder.encode(plain)];
}

async function rawBody(req: ExpressRequest, limit: number): Promise<{ body: NodeBody; parsed?: unknown }> {
  if (Buffer.isBuffer(req.rawBody)) return { body: req.rawBody.length > limit ? 'too_large' : req.rawBody };
  if (Buffer.isBuffer(req.body)) return { body: req.body.length > limit ? 'too_large' : req.body };
  if (typeof req.body === 'string') {
    const bytes = encoder.encode(req.body);
    return { body: bytes.length > limit ? 'too_large' : bytes };
  }
  if (req._body !== true && !req.readableEnded) return { body: await readNodeBody(req, limit) };
  return { body: new Uint8Array(0), parsed: req.body };
}

export function clerkSyncExpress(sync: WebhookReceiver): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  return (req, res, next) => {
    // The delivery's deadline counts from here, so reading the body is part of it (as in node.ts).
    const arrivedAt = performance.now();
    void (async () => {
      const limit = sync.config.maxBodyBytes;
      const { body, parsed } = req.method === 'POST' ? await rawBody(req as ExpressRequest, limit) : { body: new Uint8Array(0), parsed: undefined };
      const answer = await sync.receive({
        method: req.method ?? 'GET',
        header: headerLookup(req),
        body,
        fallbackBodies: parsed !== undefined ? () => reserialised(parsed) : undefined,
        clientIp: req.socket.remoteAddress,
        arrivedAt,
      });
      writeAnswer(res, answer, body === 'too_large');
    })().catch(next);
  };
}
