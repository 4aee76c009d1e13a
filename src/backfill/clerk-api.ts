/**
 * The slice of Clerk's Backend API that backfill, reconcile and read-through use, through
 * `@clerk/backend` (so paths, auth headers and API versioning are Clerk's own), with the request
 * budget, 429/Retry-After handling and retries of transient failures around every call.
 * Results are the API's snake_case JSON, which is also the webhook `data` shape.
 */
import { createClerkClient } from '@clerk/backend';
import { AbortedError, BudgetExhaustedError, RequestBudget, sleep as defaultSleep, type Sleep } from './budget.js';
import { toWebhookData, type ApiObject } from './payload.js';

export type Json = Record<string, unknown>;

export interface Page {
  data: Json[];
  /** What the API reports as the total (absent for listings that do not say). */
  totalCount?: number;
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
  signal?: AbortSignal;
  sleep?: Sleep;
  now?: () => number;
  /** Observes each request's outcome (metrics, logs): status 0 means a network failure. */
  onRequest?: (info: { operation: string; status: number; ms: number }) => void;
}

export class ClerkApiError extends Error {
  override readonly name = 'ClerkApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ClerkApi {
  readonly budget: RequestBudget;
  listUsers(offset: number, limit: number): Promise<Page>;
  listOrganizations(offset: number, limit: number): Promise<Page>;
  listMemberships(organizationId: string, offset: number, limit: number): Promise<Page>;
  listOrganizationInvitations(organizationId: string, offset: number, limit: number): Promise<Page>;
  listInvitations(offset: number, limit: number): Promise<Page>;
  listRoles(offset: number, limit: number): Promise<Page>;
  listPermissions(offset: number, limit: number): Promise<Page>;
  /** null when Clerk answers 404. */
  getUser(id: string): Promise<Json | null>;
  getOrganization(id: string): Promise<Json | null>;
  getRole(id: string): Promise<Json | null>;
  getPermission(id: string): Promise<Json | null>;
}

interface SdkError {
  status?: number;
  retryAfter?: number;
  errors?: Array<{ code?: string; message?: string; longMessage?: string }>;
  message?: string;
}

function describe(error: SdkError): { code: string; message: string } {
  const first = error.errors?.[0];
  return { code: first?.code ?? 'unexpected_error', message: first?.longMessage ?? first?.message ?? error.message ?? 'request failed' };
}

function backoffMs(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
}

export function createClerkApi(options: ClerkApiOptions): ClerkApi {
  const client = createClerkClient({ secretKey: options.secretKey, apiUrl: options.apiUrl, telemetry: { disabled: true } });
  const budget = new RequestBudget({ requestsPerSecond: options.requestsPerSecond ?? 10, maxRequests: options.maxRequests, now: options.now, sleep: options.sleep });
  const wait = options.sleep ?? defaultSleep;
  const maxAttempts = options.maxAttempts ?? 6;
  const maxRateLimited = options.maxRateLimited ?? 30;
  const now = options.now ?? Date.now;

  /** `cost`: HTTP requests the SDK call makes (getUserList also asks for the count). */
  async function call<T>(operation: string, cost: number, fn: () => Promise<T>): Promise<T> {
    let failures = 0;
    let limited = 0;
    for (;;) {
      await budget.take(cost, options.signal);
      const started = now();
      try {
        const result = await fn();
        options.onRequest?.({ operation, status: 200, ms: now() - started });
        return result;
      } catch (caught) {
        if (caught instanceof BudgetExhaustedError || caught instanceof AbortedError) throw caught;
        const error = caught as SdkError;
        const status = typeof error.status === 'number' ? error.status : 0;
        options.onRequest?.({ operation, status, ms: now() - started });
        if (status === 429) {
          if (++limited > maxRateLimited) throw new ClerkApiError(429, 'too_many_requests', `${operation}: still rate limited after ${maxRateLimited} retries`);
          // Clerk sends Retry-After in seconds; without one, a second is what its docs suggest.
          budget.pause(Math.min(300, error.retryAfter ?? 1) * 1000);
          continue;
        }
        if (status === 0 || status >= 500) {
          if (++failures >= maxAttempts) {
            const { code, message } = describe(error);
            throw new ClerkApiError(status, code, `${operation}: ${message} (after ${failures} attempts)`);
          }
          await wait(backoffMs(failures - 1), options.signal);
          continue;
        }
        const { code, message } = describe(error);
        throw new ClerkApiError(status, code, `${operation}: ${status} ${code}: ${message}`);
      }
    }
  }

  const page = (objects: unknown, totalCount: number | undefined, object: string): Page => ({
    data: (objects as ApiObject[]).map((o) => toWebhookData(o, object)),
    ...(totalCount === undefined ? {} : { totalCount }),
  });

  async function getOrNull(operation: string, fn: () => Promise<unknown>, object: string): Promise<Json | null> {
    try {
      return toWebhookData((await call(operation, 1, fn)) as ApiObject, object);
    } catch (error) {
      if (error instanceof ClerkApiError && error.status === 404) return null;
      throw error;
    }
  }

  // Oldest first: new entities then land after the pages already read instead of shifting them.
  const orderBy = '+created_at' as const;

  return {
    budget,
    async listUsers(offset, limit) {
      const r = await call('users.list', 2, () => client.users.getUserList({ offset, limit, orderBy }));
      return page(r.data, r.totalCount, 'user');
    },
    async listOrganizations(offset, limit) {
      const r = await call('organizations.list', 1, () => client.organizations.getOrganizationList({ offset, limit, orderBy }));
      return page(r.data, r.totalCount, 'organization');
    },
    async listMemberships(organizationId, offset, limit) {
      const r = await call('organization_memberships.list', 1, () => client.organizations.getOrganizationMembershipList({ organizationId, offset, limit, orderBy }));
      return page(r.data, r.totalCount, 'organization_membership');
    },
    async listOrganizationInvitations(organizationId, offset, limit) {
      const r = await call('organization_invitations.list', 1, () => client.organizations.getOrganizationInvitationList({ organizationId, offset, limit }));
      return page(r.data, r.totalCount, 'organization_invitation');
    },
    async listInvitations(offset, limit) {
      const r = await call('invitations.list', 1, () => client.invitations.getInvitationList({ offset, limit, orderBy }));
      return page(r.data, r.totalCount, 'invitation');
    },
    async listRoles(offset, limit) {
      const r = await call('organization_roles.list', 1, () => client.organizationRoles.getOrganizationRoleList({ offset, limit }));
      return page(r.data, r.totalCount, 'role');
    },
    async listPermissions(offset, limit) {
      const r = await call('organization_permissions.list', 1, () => client.organizationPermissions.getOrganizationPermissionList({ offset, limit }));
      return page(r.data, r.totalCount, 'permission');
    },
    getUser: (id) => getOrNull('users.get', () => client.users.getUser(id), 'user'),
    getOrganization: (id) => getOrNull('organizations.get', () => client.organizations.getOrganization({ organizationId: id }), 'organization'),
    getRole: (id) => getOrNull('organization_roles.get', () => client.organizationRoles.getOrganizationRole(id), 'role'),
    getPermission: (id) => getOrNull('organization_permissions.get', () => client.organizationPermissions.getOrganizationPermission(id), 'permission'),
  };
}
