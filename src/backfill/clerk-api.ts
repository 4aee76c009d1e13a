/**
 * The slice of Clerk's Backend API that backfill, reconcile and read-through use, over plain
 * `fetch`: the listings already answer webhook-shaped snake_case JSON, so nothing is converted
 * (an SDK's camelCase classes lose fields on the way back). Around every request: the request
 * budget, 429/Retry-After, and retries of 5xx and network failures with backoff.
 *
 * Every answer is checked before anything is stored: a page that is not JSON, has no `data`, or
 * holds an object without an id is an error (`invalid_response`), never an empty page.
 */
import { RequestBudget, sleep as defaultSleep, type Sleep } from './budget.js';

export type Json = Record<string, unknown>;

export interface Page {
  data: Json[];
  /** What the API reports as the total (absent for listings that do not say). */
  totalCount?: number;
}

/** One listing request: a path under /v1 and its filters (repeated keys for array filters). */
export interface ListingRequest {
  path: string;
  query?: ReadonlyArray<readonly [string, string]>;
}

export interface ClerkApiOptions {
  secretKey: string;
  /** Another Backend API base URL (a proxy, a fake in tests). @default https://api.clerk.com */
  apiUrl?: string;
  /** Requests per second at most. @default 10 (Clerk allows 100 per 10 s on development instances) */
  requestsPerSecond?: number;
  /** Stop with BudgetExhaustedError after this many requests (resume later). */
  maxRequests?: number;
  /** Attempts for a 5xx or network failure before giving up. @default 6 */
  maxAttempts?: number;
  /** 429 answers in a row for one call before giving up. @default 30 */
  maxRateLimited?: number;
  /** One request's time limit. @default 30 s */
  timeoutMs?: number;
  signal?: AbortSignal;
  sleep?: Sleep;
  now?: () => number;
  fetch?: typeof fetch;
  /** Observes each request's outcome (metrics, logs): status 0 means a network failure. */
  onRequest?: (info: { operation: string; status: number; ms: number }) => void;
}

export class ClerkApiError extends Error {
  override readonly name = 'ClerkApiError';
  constructor(
    /** HTTP status; 200 for an answer that could not be used (`invalid_response`), 0 for a network failure. */
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ClerkApi {
  readonly budget: RequestBudget;
  list(operation: string, request: ListingRequest, offset: number, limit: number): Promise<Page>;
  /** GET /v1/users/count and the like: a `{ total_count }` object. */
  count(operation: string, path: string): Promise<number>;
  /** null when Clerk answers 404. */
  getUser(id: string): Promise<Json | null>;
  getOrganization(id: string): Promise<Json | null>;
  getRole(id: string): Promise<Json | null>;
  getPermission(id: string): Promise<Json | null>;
}

function backoffMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
}

function describeError(body: unknown): { code: string; message: string } {
  const first = (body as { errors?: Array<{ code?: unknown; message?: unknown; long_message?: unknown }> } | null)?.errors?.[0];
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v.slice(0, 300) : undefined);
  return { code: text(first?.code) ?? 'unexpected_error', message: text(first?.long_message) ?? text(first?.message) ?? 'request failed' };
}

function retryAfterSeconds(header: string | null): number {
  const n = Number(header);
  return Number.isFinite(n) && n >= 0 ? n : 1;
}

function checkEntity(operation: string, value: unknown, where: string): Json {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ClerkApiError(200, 'invalid_response', `${operation}: ${where} is not an object`);
  const id = (value as Json).id;
  if (typeof id !== 'string' || id.length === 0) throw new ClerkApiError(200, 'invalid_response', `${operation}: ${where} has no id`);
  return value as Json;
}

function toPage(operation: string, body: unknown): Page {
  // GET /v1/users answers a bare array; every other listing `{ data, total_count }`.
  const data = Array.isArray(body) ? body : (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new ClerkApiError(200, 'invalid_response', `${operation}: the answer has no data array`);
  const total = Array.isArray(body) ? undefined : (body as { total_count?: unknown }).total_count;
  return {
    data: data.map((item, i) => checkEntity(operation, item, `item ${i}`)),
    ...(typeof total === 'number' && Number.isFinite(total) ? { totalCount: total } : {}),
  };
}

export function createClerkApi(options: ClerkApiOptions): ClerkApi {
  const base = `${(options.apiUrl ?? 'https://api.clerk.com').replace(/\/+$/, '')}/v1`;
  const budget = new RequestBudget({ requestsPerSecond: options.requestsPerSecond ?? 10, maxRequests: options.maxRequests, now: options.now, sleep: options.sleep });
  const wait = options.sleep ?? defaultSleep;
  const maxAttempts = options.maxAttempts ?? 6;
  const maxRateLimited = options.maxRateLimited ?? 30;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? fetch;
  const headers = { authorization: `Bearer ${options.secretKey}`, accept: 'application/json', 'user-agent': 'clerk-sync' };

  /** The parsed JSON body of a 2xx answer; a 404 as null when `allow404`. */
  async function request(operation: string, path: string, query: ReadonlyArray<readonly [string, string]>, allow404 = false): Promise<unknown> {
    const url = `${base}${path}${query.length ? `?${new URLSearchParams(query.map(([k, v]) => [k, v])).toString()}` : ''}`;
    let failures = 0;
    let limited = 0;
    for (;;) {
      await budget.take(1, options.signal);
      const started = now();
      let status = 0;
      let text = '';
      let retryAfter: string | null = null;
      try {
        // Not the caller's signal: ^C lets the request in flight finish, and its page is stored.
        const response = await doFetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
        status = response.status;
        retryAfter = response.headers.get('retry-after');
        text = await response.text();
      } catch {
        status = 0;
        text = '';
      }
      options.onRequest?.({ operation, status, ms: now() - started });
      if (status >= 200 && status < 300) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new ClerkApiError(200, 'invalid_response', `${operation}: the answer is not JSON (it starts with ${JSON.stringify(text.slice(0, 40))}); is CLERK_API_URL the Backend API?`);
        }
      }
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        // An error page from a proxy: described by its status alone.
      }
      if (status === 404 && allow404) return null;
      if (status === 429) {
        if (++limited > maxRateLimited) throw new ClerkApiError(429, 'too_many_requests', `${operation}: still rate limited after ${maxRateLimited} retries`);
        // Clerk sends Retry-After in seconds; without one, a second is what its docs suggest.
        budget.pause(Math.min(300, retryAfterSeconds(retryAfter)) * 1000);
        continue;
      }
      if (status === 0 || status >= 500) {
        if (++failures >= maxAttempts) {
          const { code, message } = status === 0 ? { code: 'network_error', message: 'no answer' } : describeError(body);
          throw new ClerkApiError(status, code, `${operation}: ${status === 0 ? '' : `${status} `}${message} (after ${failures} attempts)`);
        }
        await wait(backoffMs(failures - 1), options.signal);
        continue;
      }
      const { code, message } = describeError(body);
      throw new ClerkApiError(status, code, `${operation}: ${status} ${code}: ${message}`);
    }
  }

  const get = async (operation: string, path: string): Promise<Json | null> => {
    const body = await request(operation, path, [], true);
    return body === null ? null : checkEntity(operation, body, 'the answer');
  };
  const id = (value: string) => encodeURIComponent(value);

  return {
    budget,
    async list(operation, listing, offset, limit) {
      const query = [...(listing.query ?? []), ['limit', String(limit)], ['offset', String(offset)]] as const;
      return toPage(operation, await request(operation, listing.path, query));
    },
    async count(operation, path) {
      const body = (await request(operation, path, [])) as { total_count?: unknown } | null;
      if (typeof body?.total_count !== 'number') throw new ClerkApiError(200, 'invalid_response', `${operation}: the answer has no total_count`);
      return body.total_count;
    },
    getUser: (userId) => get('users.get', `/users/${id(userId)}`),
    getOrganization: (organizationId) => get('organizations.get', `/organizations/${id(organizationId)}`),
    getRole: (roleId) => get('organization_roles.get', `/organization_roles/${id(roleId)}`),
    getPermission: (permissionId) => get('organization_permissions.get', `/organization_permissions/${id(permissionId)}`),
  };
}
