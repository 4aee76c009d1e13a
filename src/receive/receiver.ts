/**
 * The webhook receiver: bounded body → verify → parse → inbox (group commit) → answer.
 * Every answer of the webhook path is decided here, in one place (see docs/reference/http.md).
 * `receiveDelivery` works on plain values so the Node adapter can skip building a web Request;
 * `handleWebhook` is the web-standard `(Request) => Response` form used by Next.js and others.
 */
import type { Logger } from 'pino';
import { beforeDeadline, TIMED_OUT } from '../core/deadline.js';
import { isDatabaseUnavailable } from '../core/db.js';
import { ERROR_CODES, errorBody, type ErrorCode } from '../core/errors.js';
import { storedPayloadMatch, type InboxItem } from '../inbox/enqueue.js';
import type { InboxWriter, WriteResult } from '../inbox/group-commit.js';
import type { Queryable } from '../core/db.js';
import { verifyWebhook, type HeaderLookup, type SigningKey } from '../verify/index.js';
import { readBodyWithLimit } from './body.js';
import { parseEvent } from './event.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js';
import type { Client, DeliveryLimits } from './rate-limit.js';

export interface Delivery {
  method: string;
  header: HeaderLookup;
  /** The raw body; `too_large` when the adapter stopped reading at the limit. */
  body: Uint8Array | 'too_large';
  /** Extra bodies to try when the raw bytes were lost to a JSON body parser (Express). */
  fallbackBodies?: () => Uint8Array[];
  /**
   * The address the request came from: the socket's peer (Node adapters) or what the caller of
   * `handleWebhook(request, { clientIp })` passes. A forwarded header replaces it only per `trustProxy`.
   */
  clientIp?: string;
  /** When the request arrived (`performance.now()`), where that was before the receiver ran; the delivery's deadline counts from it. */
  arrivedAt?: number;
}

export interface ReceiverAnswer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export interface DeliveryOutcome {
  status: number;
  code?: ErrorCode;
  id?: string;
  type?: string;
  duplicate?: boolean;
}

export interface ReceiverDeps {
  /** Null when no secret is configured: every delivery answers 500. */
  keys: readonly SigningKey[] | null;
  writer: InboxWriter;
  db: Queryable;
  schema: string;
  maxBodyBytes: number;
  toleranceSeconds: number;
  now: () => number;
  logger: Logger;
  /** Called after a new delivery is committed (inline mode). Its failure does not change the answer. */
  afterCommit?: (item: InboxItem, commit: { appliedAtIntake: boolean }) => Promise<void>;
  /** Observes each outcome (metrics, rate limits). */
  onOutcome?: (outcome: DeliveryOutcome, elapsedMs: number) => void;
  /** Allow-list and rate limits per client address (receive/rate-limit.ts); absent: none. */
  limits?: DeliveryLimits;
  /**
   * The longest a delivery waits for the database, from its arrival: past it, the answer is 503
   * `database_unavailable` (or, when the commit is already known, the 2xx). Absent: no bound
   * beyond the pool's own timeouts.
   */
  deliveryTimeoutMs?: number;
}

export function deliveryDeadline(deps: Pick<ReceiverDeps, 'deliveryTimeoutMs'>, arrivedAt: number): number {
  return deps.deliveryTimeoutMs === undefined ? Infinity : arrivedAt + deps.deliveryTimeoutMs;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** An error answer in the documented shape (core/errors.ts), for the receiver and for what stands before it. */
export function errorAnswer(code: ErrorCode, message?: string, extraHeaders: Record<string, string> = {}): ReceiverAnswer {
  return { status: ERROR_CODES[code].status, body: errorBody(code, message), headers: { ...JSON_HEADERS, ...extraHeaders } };
}

export async function receiveDelivery(deps: ReceiverDeps, delivery: Delivery): Promise<ReceiverAnswer> {
  const started = performance.now();
  const deadline = deliveryDeadline(deps, delivery.arrivedAt ?? started);
  const outcome: DeliveryOutcome = { status: 500 };
  const client: Client = deps.limits?.identify(delivery.clientIp, delivery.header) ?? {};
  const answer = await decide(deps, delivery, outcome, client, deadline).catch((error: unknown) => {
    deps.logger.error({ err: { message: (error as Error)?.message, code: (error as { code?: string })?.code } }, 'webhook delivery failed');
    outcome.code = 'internal_error';
    return errorAnswer('internal_error');
  });
  outcome.status = answer.status;
  const elapsedMs = performance.now() - started;
  deps.onOutcome?.(outcome, elapsedMs);
  // One line per refused request of a flood would amplify it into the logs; the limiter logs once
  // per window instead. Accepted deliveries are the normal case: counted by the metrics, logged
  // at debug (at info, serializing a line per delivery was measurable intake cost at full load).
  const level = answer.status >= 500 ? 'error' : answer.status === 429 ? 'debug' : answer.status >= 400 ? 'warn' : 'debug';
  deps.logger[level](
    { svixId: outcome.id, eventType: outcome.type, status: answer.status, code: outcome.code, duplicate: outcome.duplicate, ms: Math.round(elapsedMs * 10) / 10 },
    'webhook delivery',
  );
  return answer;
}

async function decide(deps: ReceiverDeps, delivery: Delivery, outcome: DeliveryOutcome, client: Client, deadline: number): Promise<ReceiverAnswer> {
  const reject = (code: ErrorCode, message?: string, headers?: Record<string, string>) => {
    outcome.code = code;
    return errorAnswer(code, message, headers);
  };
  const limits = deps.limits;
  const refuse = async (code: ErrorCode, message?: string) => {
    await limits?.failed(client);
    return reject(code, message);
  };
  const throttle = (seconds: number) => reject('rate_limited', `Too many requests from this address; retry in ${seconds} s`, { 'retry-after': String(seconds) });
  if (limits && !limits.allows(client)) return reject('forbidden', 'This source address may not deliver webhooks here');
  if (delivery.method !== 'POST') return reject('method_not_allowed', 'Use POST', { allow: 'POST' });
  if (!deps.keys || deps.keys.length === 0) return reject('secret_not_configured');
  if (limits) {
    const wait = await limits.waitBeforeVerify(client);
    if (wait > 0) return throttle(wait);
  }
  if (delivery.body === 'too_large') return refuse('payload_too_large', `The body is larger than ${deps.maxBodyBytes} bytes`);

  const nowSeconds = Math.floor(deps.now() / 1000);
  let verified = verifyWebhook({ body: delivery.body, header: delivery.header, keys: deps.keys, nowSeconds, toleranceSeconds: deps.toleranceSeconds });
  let body = delivery.body;
  if (!verified.ok && verified.reason === 'invalid_signature' && delivery.fallbackBodies) {
    for (const candidate of delivery.fallbackBodies()) {
      const again = verifyWebhook({ body: candidate, header: delivery.header, keys: deps.keys, nowSeconds, toleranceSeconds: deps.toleranceSeconds });
      if (again.ok) {
        verified = again;
        body = candidate;
        break;
      }
    }
  }
  if (!verified.ok) return refuse(verified.reason, verified.message);
  outcome.id = verified.id;

  // From here the sender is proven: a body we cannot take is no attack and must not spend the
  // source address's failed budget (Svix's addresses are shared by every endpoint it serves).
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) return reject('invalid_json', `The body nests deeper than ${MAX_JSON_DEPTH} levels`);
  const parsed = parseEvent(verified.id, body);
  if (!parsed.ok) return reject(parsed.code, parsed.message);
  outcome.type = parsed.item.type;
  if (limits) {
    const wait = await limits.verified(client);
    if (wait > 0) return throttle(wait);
  }

  let written: WriteResult | typeof TIMED_OUT;
  try {
    const write = deps.writer.write(parsed.item, deadline);
    // Past the deadline a write already sent goes on unheard: it may still commit, and the
    // sender's retry is then a duplicate. One still queued is dropped (expired).
    write.catch(() => {});
    written = await beforeDeadline(write, deadline);
  } catch (error) {
    if (isDatabaseUnavailable(error)) return reject('database_unavailable');
    throw error;
  }
  if (written === TIMED_OUT || written === 'expired') {
    deps.logger.warn({ svixId: verified.id, eventType: parsed.item.type, timeoutMs: deps.deliveryTimeoutMs }, 'the database did not commit the delivery in time; answered 503');
    return reject('database_unavailable', `The database did not answer within ${deps.deliveryTimeoutMs} ms; the delivery may not be stored, retry later`);
  }
  const inserted = written !== 'duplicate';
  if (!inserted) {
    // "Not inserted" is read as "already there" only once the row is seen: an insert can also
    // return nothing because something dropped the row silently (a trigger, a driver failing on a
    // body it cannot take), and acknowledging that would lose the event for good.
    const stored = await beforeDeadline(storedCopy(deps, parsed.item), deadline);
    if (stored === 'unknown' || stored === TIMED_OUT) return reject('database_unavailable');
    if (stored === 'missing') {
      deps.logger.error({ svixId: verified.id, eventType: parsed.item.type }, 'the inbox insert stored nothing and the id is not in the inbox: answered 500 so the sender retries');
      return reject('internal_error', 'The delivery could not be stored; retry later');
    }
    outcome.duplicate = true;
  } else if (deps.afterCommit) {
    // The delivery is committed: whatever runs out of time from here, the answer is the 2xx.
    const after = deps.afterCommit(parsed.item, { appliedAtIntake: written === 'applied' }).catch((error: unknown) => {
      deps.logger.warn({ svixId: verified.id, err: { message: (error as Error)?.message } }, 'inline apply failed; the event stays queued');
    });
    if ((await beforeDeadline(after, deadline)) === TIMED_OUT) deps.logger.warn({ svixId: verified.id }, 'inline apply still running at the delivery deadline; answered 200, the event stays queued');
  }
  return {
    status: 200,
    body: JSON.stringify(inserted ? { received: true, id: verified.id } : { received: true, id: verified.id, duplicate: true }),
    headers: JSON_HEADERS,
  };
}

/** Whether a delivery reported as a duplicate is really in the inbox; warns when its stored body differs. */
async function storedCopy(deps: ReceiverDeps, item: InboxItem): Promise<'stored' | 'missing' | 'unknown'> {
  let stored: 'missing' | 'same' | 'different';
  try {
    stored = await storedPayloadMatch(deps.db, deps.schema, item);
  } catch {
    return 'unknown';
  }
  if (stored === 'missing') return 'missing';
  if (stored === 'different') {
    deps.logger.warn({ svixId: item.id, eventType: item.type }, 'duplicate svix id with a different body: kept the first one');
  }
  return 'stored';
}

/** The web-standard handler: `(Request) => Promise<Response>`; `clientIp` is the caller's address when the platform gives one. */
export async function handleWebhookRequest(deps: ReceiverDeps, request: Request, clientIp?: string, arrivedAt?: number): Promise<Response> {
  let body: Uint8Array | 'too_large' = new Uint8Array(0);
  if (request.method === 'POST' && deps.keys && deps.keys.length > 0) {
    const read = await readBodyWithLimit(request, deps.maxBodyBytes);
    body = read.ok ? read.body : 'too_large';
  }
  const answer = await receiveDelivery(deps, { method: request.method, header: (name) => request.headers.get(name), body, clientIp, arrivedAt });
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
