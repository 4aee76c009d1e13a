/**
 * A local stand-in for Resend's API on loopback that speaks its wire format: `POST /emails` with
 * `Authorization: Bearer <key>`, `Idempotency-Key`, JSON `{ from, to, subject, html, text }`,
 * answering 200 `{ id }`; errors as `{ statusCode, name, message }` (422 validation_error,
 * 401/403 for a missing or wrong key, 429 rate_limit_exceeded with Retry-After). Like Resend it
 * remembers idempotency keys: the same key and body gets the first answer back without a second
 * email; the same key with another body is 409 invalid_idempotent_request.
 *
 * Tests script failures with `failNext(...)` and read `requests` (every POST) and `emails`
 * (emails actually created, once per idempotency key).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ResendRequest {
  path: string;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  body: any;
  at: number;
}

export interface CreatedEmail {
  id: string;
  idempotencyKey: string | undefined;
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
}

export type ScriptedAnswer =
  | { status: 429; retryAfter?: string }
  | { status: 422 | 400 | 401 | 403 | 409 | 500 | 502 | 503; name?: string; message?: string }
  | { status: 'hang' }
  | { status: 'destroy' }
  | { status: 'html500' };

export interface FakeResend {
  url: string;
  apiKey: string;
  requests: ResendRequest[];
  emails: CreatedEmail[];
  /** The next requests get these answers, in order (after them, normal service). */
  failNext(...answers: ScriptedAnswer[]): void;
  /** Every request for this recipient gets this answer (e.g. a permanently bad address). */
  failFor(recipient: string, answer: ScriptedAnswer): void;
  /** Milliseconds added before each normal answer. */
  delayMs: number;
  /** Requests received and not answered yet. */
  readonly inFlight: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeResend(options: { apiKey?: string; port?: number } = {}): Promise<FakeResend> {
  const apiKey = options.apiKey ?? 're_test_123456789';
  const requests: ResendRequest[] = [];
  const emails: CreatedEmail[] = [];
  const script: ScriptedAnswer[] = [];
  const byRecipient = new Map<string, ScriptedAnswer>();
  const idempotency = new Map<string, { bodyHash: string; id: string }>();
  const hanging = new Set<ServerResponse>();

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const error = (res: ServerResponse, statusCode: number, name: string, message: string, headers?: Record<string, string>) =>
    send(res, statusCode, { statusCode, name, message }, headers);

  const answerScripted = (res: ServerResponse, answer: ScriptedAnswer) => {
    switch (answer.status) {
      case 'hang':
        hanging.add(res);
        return;
      case 'destroy':
        res.socket?.destroy();
        return;
      case 'html500':
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end('<html><body>Internal Server Error</body></html>');
        return;
      case 429:
        return error(res, 429, 'rate_limit_exceeded', 'Too many requests. You can only make 2 requests per second.', answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter });
      default:
        return error(res, answer.status, answer.name ?? (answer.status >= 500 ? 'internal_server_error' : 'validation_error'), answer.message ?? 'scripted failure');
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const record: ResendRequest = {
      path: req.url ?? '',
      authorization: req.headers.authorization,
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
      body,
      at: Date.now(),
    };
    requests.push(record);
    if (req.method !== 'POST' || req.url !== '/emails') return error(res, 405, 'method_not_allowed', 'Method not allowed');
    if (!req.headers.authorization) return error(res, 401, 'missing_api_key', 'Missing API key in the authorization header.');
    if (req.headers.authorization !== `Bearer ${apiKey}`) return error(res, 403, 'invalid_api_key', 'API key is invalid');
    const scripted = script.shift() ?? (Array.isArray(body?.to) ? body.to.map((t: string) => byRecipient.get(t)).find(Boolean) : undefined);
    if (scripted) return answerScripted(res, scripted);
    if (!body || typeof body !== 'object') return error(res, 422, 'validation_error', 'Invalid JSON body');
    for (const field of ['from', 'to', 'subject'] as const) {
      if (!body[field] || (Array.isArray(body[field]) && body[field].length === 0)) return error(res, 422, 'missing_required_field', `Missing \`${field}\` field.`);
    }
    if (!body.html && !body.text) return error(res, 422, 'validation_error', 'Missing `html` or `text` field.');
    if (fake.delayMs > 0) await new Promise((r) => setTimeout(r, fake.delayMs));
    const key = record.idempotencyKey;
    const bodyHash = createHash('sha256').update(raw).digest('hex');
    if (key !== undefined) {
      const seen = idempotency.get(key);
      if (seen) {
        if (seen.bodyHash !== bodyHash) return error(res, 409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.');
        return send(res, 200, { id: seen.id });
      }
    }
    const id = randomUUID();
    if (key !== undefined) idempotency.set(key, { bodyHash, id });
    emails.push({ id, idempotencyKey: key, from: body.from, to: Array.isArray(body.to) ? body.to : [body.to], subject: body.subject, html: body.html, text: body.text });
    send(res, 200, { id });
  };

  let inFlight = 0;
  const server: Server = createServer((req, res) => {
    inFlight++;
    res.once('close', () => inFlight--);
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const fake: FakeResend = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    apiKey,
    requests,
    emails,
    delayMs: 0,
    get inFlight() {
      return inFlight;
    },
    failNext: (...answers) => void script.push(...answers),
    failFor: (recipient, answer) => void byRecipient.set(recipient, answer),
    reset() {
      requests.length = 0;
      emails.length = 0;
      script.length = 0;
      byRecipient.clear();
      idempotency.clear();
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
