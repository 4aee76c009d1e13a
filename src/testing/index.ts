/**
 * `clerk-sync/testing`: helpers for your own tests: sign a Clerk event the way Svix does and
 * build the `Request` your route receives.
 *
 * ```ts
 * import { signedRequest } from 'clerk-sync/testing';
 * const res = await POST(signedRequest({ secret, event: { type: 'user.created', data: { id: 'user_1' } } }));
 * ```
 */
import { randomBytes } from 'node:crypto';
import { signedHeaders, signPayload } from '../verify/index.js';

export { signedHeaders, signPayload };
export { generateSigningSecret } from '../verify/index.js';

export interface SignOptions {
  secret: string;
  /** The event object or its exact JSON text. */
  event: unknown;
  /** @default a random msg_ id */
  id?: string;
  /** Seconds. @default now */
  timestamp?: number;
  /** @default 'svix' */
  prefix?: 'svix' | 'webhook';
}

export function newMessageId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`;
}

/** Body and headers of a signed delivery. */
export function signEvent(options: SignOptions): { id: string; body: string; headers: Record<string, string> } {
  const id = options.id ?? newMessageId();
  const body = typeof options.event === 'string' ? options.event : JSON.stringify(options.event);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return { id, body, headers: signedHeaders({ id, timestamp, body, secret: options.secret, prefix: options.prefix }) };
}

/** A web `Request` carrying a signed delivery. */
export function signedRequest(options: SignOptions & { url?: string }): Request {
  const { body, headers } = signEvent(options);
  return new Request(options.url ?? 'http://localhost/api/webhooks/clerk', { method: 'POST', headers, body });
}
