/**
 * `clerk-sync/node`: the webhook handler as a Node `(req, res)` listener. It reads the socket
 * straight into bytes with the size cap and calls the receiver on plain values, skipping the
 * cost of building a web `Request` per delivery (the hot path of the standalone server).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Delivery, ReceiverAnswer } from '../receive/receiver.js';

export interface WebhookReceiver {
  receive(delivery: Delivery): Promise<ReceiverAnswer>;
  readonly config: { readonly maxBodyBytes: number };
}

export type NodeBody = Uint8Array | 'too_large';

/** Reads a request body, never buffering more than `limit` bytes. */
export function readNodeBody(req: IncomingMessage, limit: number): Promise<NodeBody> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        chunks.length = 0;
        req.pause();
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
  });
}

export function headerLookup(req: IncomingMessage): (name: string) => string | undefined {
  return (name) => {
    const value = req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

export function writeAnswer(res: ServerResponse, answer: ReceiverAnswer, closeConnection = false): void {
  const headers: Record<string, string | number> = { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) };
  if (closeConnection) headers.connection = 'close';
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/** A Node listener for the webhook path alone; mount it on your own router or server. */
export function createNodeWebhookListener(sync: WebhookReceiver): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    // The delivery's deadline counts from here, so reading the body is part of it.
    const arrivedAt = performance.now();
    void (async () => {
      const body: NodeBody = req.method === 'POST' ? await readNodeBody(req, sync.config.maxBodyBytes) : new Uint8Array(0);
      const answer = await sync.receive({ method: req.method ?? 'GET', header: headerLookup(req), body, clientIp: req.socket.remoteAddress, arrivedAt });
      // After refusing an oversized body, close instead of reading the rest of it.
      writeAnswer(res, answer, body === 'too_large');
    })().catch(() => {
      if (!res.headersSent) writeAnswer(res, { status: 400, body: '{"error":{"code":"invalid_json","message":"The request could not be read"}}', headers: { 'content-type': 'application/json' } }, true);
      else res.destroy();
    });
  };
}
