/**
 * A local fake of Clerk's Backend API (node:http on 127.0.0.1) that the backfill client can be
 * pointed at with `apiUrl`. It implements what backfill, reconcile and read-through use, with
 * the shapes Clerk's Backend API answers:
 *
 * - `GET /v1/users` answers a bare array (`GET /v1/users/count` answers
 *   `{ object: 'total_count', total_count }`); every other list answers `{ data, total_count }`
 *   (`/v1/invitations` only with `paginated=true`).
 * - Instance-wide listings of memberships, organization invitations and domains
 *   (`/v1/organization_memberships`, `/v1/organization_invitations`, `/v1/organization_domains`),
 *   404 when `instanceWideNotFound` is set (an instance without them), and the per-organization
 *   ones. Invitation lists filter by `status` as Clerk's do: `/v1/invitations` without one leaves
 *   revoked invitations out, organization invitation lists default to pending.
 * - Waitlist entries and billing subscription items (`/v1/billing/subscription_items`).
 * - `limit` (1..500, default 10), `offset`, `order_by` (`+created_at`, `-created_at`, default
 *   newest first) on lists; errors as `{ errors: [{ code, message, long_message }], clerk_trace_id }`
 *   with `content-type: application/json` exactly (the SDK parses nothing else as JSON).
 * - 401 without `Authorization: Bearer <secretKey>`, 404 for unknown ids, 422 for a bad limit,
 *   and 429 with `Retry-After` on demand (`rateLimit`, `failNext`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

export interface FakeUser extends Json {
  id: string;
  created_at: number;
  updated_at: number;
}

export interface SeedOptions {
  users?: number;
  organizations?: number;
  /** Memberships per organization, taken round-robin from the users. */
  membershipsPerOrganization?: number;
  invitationsPerOrganization?: number;
  invitations?: number;
  /** Invitations and organization invitations (one per organization) that are revoked. */
  revokedInvitations?: number;
  domainsPerOrganization?: number;
  waitlistEntries?: number;
  subscriptionItems?: number;
  roles?: number;
  permissions?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface FakeClerkApi {
  /** Base URL to pass as `apiUrl` (the SDK appends `/v1`). */
  readonly url: string;
  readonly secretKey: string;
  readonly requests: RecordedRequest[];
  users: FakeUser[];
  organizations: Json[];
  memberships: Map<string, Json[]>;
  organizationInvitations: Map<string, Json[]>;
  invitations: Json[];
  roles: Json[];
  permissions: Json[];
  domains: Json[];
  waitlistEntries: Json[];
  subscriptionItems: Json[];
  /** Answer 404 on the instance-wide membership, organization invitation and domain listings. */
  instanceWideNotFound: boolean;
  /** The next listing answer is broken this way (once). */
  corruptNext(kind: 'not_json' | 'no_data' | 'no_id'): void;
  seed(options: SeedOptions): void;
  addUser(fields?: Partial<FakeUser> & { email?: string }): FakeUser;
  updateUser(id: string, fields: Json): FakeUser;
  deleteUser(id: string): void;
  addOrganization(fields?: Json): Json;
  deleteOrganization(id: string): void;
  addMembership(organizationId: string, userId: string, role?: string): Json;
  deleteMembership(organizationId: string, membershipId: string): void;
  /** Answer 429 (with `Retry-After: retryAfterSeconds`) to every `every`-th request; null turns it off. */
  rateLimit(options: { every: number; retryAfterSeconds?: number } | null): void;
  /** Clerk's own limit: at most `requests` per sliding `windowMs`, then 429 with the seconds until a slot frees. */
  slidingLimit(options: { requests: number; windowMs: number } | null): void;
  /** Answer the next `count` requests with `status` (429s carry `Retry-After: 0`). */
  failNext(count: number, status: number): void;
  /** Ids left out of every listing while still answering on their own endpoint (a listing that missed an entity). */
  hiddenFromListings: Set<string>;
  /** Called before each request is answered (tests use it to interrupt a run). */
  onRequest: ((request: RecordedRequest) => void) | undefined;
  close(): Promise<void>;
}

const BASE_TIME = 1_700_000_000_000;

function paginate<T>(items: readonly T[], query: URLSearchParams): { page: T[] } | { error: [number, string, string, string] } {
  const limitText = query.get('limit') ?? '10';
  const offsetText = query.get('offset') ?? '0';
  const limit = Number(limitText);
  const offset = Number(offsetText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 500) {
    return { error: [422, 'form_param_value_invalid', 'is invalid', 'limit must be an integer between 1 and 500'] };
  }
  if (!/^\d+$/.test(offsetText)) return { error: [422, 'form_param_value_invalid', 'is invalid', 'offset must be a non-negative integer'] };
  const order = query.get('order_by') ?? '-created_at';
  if (!/^[+-]?(created_at|updated_at)$/.test(order)) {
    return { error: [422, 'form_param_value_invalid', 'is invalid', `order_by "${order}" is not supported`] };
  }
  const sorted = [...items];
  const field = order.replace(/^[+-]/, '') as 'created_at';
  const compare = (a: T, b: T) => Number((a as Json)[field]) - Number((b as Json)[field]) || String((a as Json).id).localeCompare(String((b as Json).id));
  // Seeded lists are already in order: a linear check spares sorting 100,000 users on every page.
  if (sorted.some((item, i) => i > 0 && compare(sorted[i - 1]!, item) > 0)) sorted.sort(compare);
  if (order.startsWith('-')) sorted.reverse();
  return { page: sorted.slice(offset, offset + limit) };
}

export async function startFakeClerkApi(options: { secretKey?: string } = {}): Promise<FakeClerkApi> {
  const secretKey = options.secretKey ?? 'sk_test_fake_backend_api_key';
  let clock = 0;
  const tick = () => BASE_TIME + ++clock * 1000;
  let sequence = 0;
  const nextId = (prefix: string) => `${prefix}_${String(++sequence).padStart(8, '0')}`;
  let rate: { every: number; retryAfterSeconds: number } | null = null;
  const forced: number[] = [];
  let requestNumber = 0;
  let corrupt: 'not_json' | 'no_data' | 'no_id' | undefined;
  let window: { requests: number; windowMs: number } | null = null;
  const sent: number[] = [];

  // Seeding 10,000 memberships must not scan the user list each time: an id index per array,
  // rebuilt when the array is replaced or has grown.
  const indexes = new WeakMap<readonly Json[], { size: number; byId: Map<string, Json> }>();
  const index = (items: readonly Json[]): Map<string, Json> => {
    let entry = indexes.get(items);
    if (!entry || entry.size !== items.length) {
      entry = { size: items.length, byId: new Map(items.map((i) => [String(i.id), i])) };
      indexes.set(items, entry);
    }
    return entry.byId;
  };

  const api: FakeClerkApi = {
    url: '',
    secretKey,
    requests: [],
    users: [],
    organizations: [],
    memberships: new Map(),
    organizationInvitations: new Map(),
    invitations: [],
    roles: [],
    permissions: [],
    domains: [],
    waitlistEntries: [],
    subscriptionItems: [],
    instanceWideNotFound: false,
    corruptNext(kind) {
      corrupt = kind;
    },
    onRequest: undefined,
    hiddenFromListings: new Set(),
    seed(seed) {
      for (let i = 0; i < (seed.permissions ?? 0); i++) {
        const t = tick();
        api.permissions.push({ object: 'permission', id: nextId('perm'), name: `Permission ${i}`, key: `org:feature${i}:manage`, description: `Manage feature ${i}`, type: 'user', created_at: t, updated_at: t });
      }
      for (let i = 0; i < (seed.roles ?? 0); i++) {
        const t = tick();
        const permissions = api.permissions.slice(0, 2);
        api.roles.push({ object: 'role', id: nextId('role'), name: `Role ${i}`, key: `org:role${i}`, description: `Role number ${i}`, is_creator_eligible: i === 0, permissions, created_at: t, updated_at: t });
      }
      for (let i = 0; i < (seed.users ?? 0); i++) api.addUser();
      const usersAtStart = api.users.length;
      for (let i = 0; i < (seed.organizations ?? 0); i++) {
        const org = api.addOrganization();
        for (let m = 0; m < (seed.membershipsPerOrganization ?? 0) && usersAtStart > 0; m++) {
          api.addMembership(org.id as string, api.users[(i * (seed.membershipsPerOrganization ?? 0) + m) % usersAtStart]!.id, m === 0 ? 'org:admin' : 'org:member');
        }
        for (let n = 0; n < (seed.invitationsPerOrganization ?? 0); n++) {
          const t = tick();
          const list = api.organizationInvitations.get(org.id as string) ?? [];
          list.push({ object: 'organization_invitation', id: nextId('orginv'), email_address: `invitee${sequence}@example.org`, role: 'org:member', role_name: 'Member', organization_id: org.id, status: 'pending', public_metadata: {}, private_metadata: {}, url: null, expires_at: t + 7 * 86_400_000, created_at: t, updated_at: t });
          api.organizationInvitations.set(org.id as string, list);
        }
      }
      for (let i = 0; i < (seed.invitations ?? 0) + (seed.revokedInvitations ?? 0); i++) {
        const t = tick();
        const revoked = i >= (seed.invitations ?? 0);
        api.invitations.push({ object: 'invitation', id: nextId('inv'), email_address: `guest${i}@example.org`, public_metadata: {}, revoked, status: revoked ? 'revoked' : 'pending', url: null, expires_at: null, created_at: t, updated_at: t });
      }
      for (const [o, org] of api.organizations.slice(-(seed.organizations ?? 0) || api.organizations.length).entries()) {
        if (o < (seed.revokedInvitations ?? 0)) {
          const t = tick();
          const list = api.organizationInvitations.get(org.id as string) ?? [];
          list.push({ object: 'organization_invitation', id: nextId('orginv'), email_address: `revoked${sequence}@example.org`, role: 'org:member', role_name: 'Member', organization_id: org.id, status: 'revoked', public_metadata: {}, private_metadata: {}, url: null, expires_at: t, created_at: t, updated_at: t });
          api.organizationInvitations.set(org.id as string, list);
        }
        for (let d = 0; d < (seed.domainsPerOrganization ?? 0); d++) {
          const t = tick();
          api.domains.push({
            object: 'organization_domain', id: nextId('orgdmn'), organization_id: org.id, name: `org${o}-${d}.example.com`, enrollment_mode: 'automatic_invitation',
            affiliation_email_address: null, verification: { status: 'verified', strategy: 'email_code', attempts: 1, expire_at: null },
            total_pending_invitations: 0, total_pending_suggestions: 0, created_at: t, updated_at: t,
          });
        }
      }
      for (let i = 0; i < (seed.waitlistEntries ?? 0); i++) {
        const t = tick();
        api.waitlistEntries.push({ object: 'waitlist_entry', id: nextId('wle'), email_address: `waiting${i}@example.org`, status: i % 3 === 0 ? 'invited' : 'pending', is_locked: false, invitation: null, created_at: t, updated_at: t });
      }
      for (let i = 0; i < (seed.subscriptionItems ?? 0) && api.users.length > 0; i++) {
        const t = tick();
        const user = api.users[i % api.users.length]!;
        api.subscriptionItems.push({
          object: 'commerce_subscription_item', id: nextId('csubi'), status: 'active', plan_period: 'month', period_start: t, period_end: t + 30 * 86_400_000,
          plan: { id: 'cplan_pro', name: 'Pro', slug: 'pro', amount: 2000, currency: 'USD' }, plan_id: 'cplan_pro', subscription_id: `csub_${i}`,
          payer: { id: `cpayer_${i}`, user_id: user.id, organization_id: null, email: null }, is_free_trial: false, created_at: t, updated_at: t,
        });
      }
    },
    addUser(fields = {}) {
      const t = tick();
      const id = fields.id ?? nextId('user');
      const n = sequence;
      const emailId = `idn_${id}`;
      const email = fields.email ?? `person${n}@example.com`;
      const { email: _ignored, ...rest } = fields;
      const user: FakeUser = {
        object: 'user',
        id,
        external_id: null,
        primary_email_address_id: emailId,
        primary_phone_number_id: null,
        primary_web3_wallet_id: null,
        username: `person${n}`,
        first_name: `First${n}`,
        last_name: `Last${n}`,
        image_url: `https://img.clerk.com/${id}`,
        has_image: false,
        public_metadata: { role: n % 2 === 0 ? 'member' : 'admin' },
        private_metadata: {},
        unsafe_metadata: {},
        email_addresses: [{ id: emailId, object: 'email_address', email_address: email, reserved: false, verification: { status: 'verified', strategy: 'email_code', attempts: 1, expire_at: null }, linked_to: [] }],
        phone_numbers: [],
        web3_wallets: [],
        external_accounts: [],
        enterprise_accounts: [],
        passkeys: [],
        password_enabled: true,
        two_factor_enabled: false,
        totp_enabled: false,
        backup_code_enabled: false,
        banned: false,
        locked: false,
        last_sign_in_at: null,
        last_active_at: null,
        created_at: t,
        updated_at: t,
        ...rest,
      };
      api.users.push(user);
      return user;
    },
    updateUser(id, fields) {
      const user = api.users.find((u) => u.id === id);
      if (!user) throw new Error(`no user ${id}`);
      Object.assign(user, fields, { updated_at: tick() });
      return user;
    },
    deleteUser(id) {
      api.users = api.users.filter((u) => u.id !== id);
      for (const [org, list] of api.memberships) api.memberships.set(org, list.filter((m) => (m.public_user_data as Json).user_id !== id));
    },
    addOrganization(fields = {}) {
      const t = tick();
      const id = (fields.id as string) ?? nextId('org');
      const org: Json = {
        object: 'organization', id, name: `Organization ${sequence}`, slug: `org-${sequence}`, image_url: '', has_image: false,
        members_count: 0, max_allowed_memberships: 0, admin_delete_enabled: true, public_metadata: {}, private_metadata: {},
        created_by: api.users[0]?.id ?? null, created_at: t, updated_at: t, ...fields,
      };
      api.organizations.push(org);
      api.memberships.set(id, []);
      return org;
    },
    deleteOrganization(id) {
      api.organizations = api.organizations.filter((o) => o.id !== id);
      api.memberships.delete(id);
      api.organizationInvitations.delete(id);
      api.domains = api.domains.filter((d) => d.organization_id !== id);
    },
    addMembership(organizationId, userId, role = 'org:member') {
      const org = index(api.organizations).get(organizationId);
      const user = index(api.users).get(userId) as FakeUser | undefined;
      if (!org || !user) throw new Error(`no organization ${organizationId} or user ${userId}`);
      const t = tick();
      const email = (user.email_addresses as Json[])[0]?.email_address ?? null;
      const membership: Json = {
        object: 'organization_membership', id: nextId('orgmem'), role, role_name: role === 'org:admin' ? 'Admin' : 'Member',
        permissions: role === 'org:admin' ? ['org:sys_memberships:manage', 'org:sys_profile:manage'] : ['org:sys_memberships:read'],
        public_metadata: {}, private_metadata: {},
        organization: { ...org },
        public_user_data: { user_id: userId, first_name: user.first_name, last_name: user.last_name, image_url: user.image_url, has_image: false, identifier: email },
        created_at: t, updated_at: t,
      };
      api.memberships.get(organizationId)!.push(membership);
      org.members_count = api.memberships.get(organizationId)!.length;
      return membership;
    },
    deleteMembership(organizationId, membershipId) {
      api.memberships.set(organizationId, (api.memberships.get(organizationId) ?? []).filter((m) => m.id !== membershipId));
    },
    rateLimit(options) {
      rate = options ? { every: options.every, retryAfterSeconds: options.retryAfterSeconds ?? 1 } : null;
    },
    slidingLimit(options) {
      window = options;
      sent.length = 0;
    },
    failNext(count, status) {
      for (let i = 0; i < count; i++) forced.push(status);
    },
    close: async () => {},
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const error = (res: ServerResponse, status: number, code: string, message: string, longMessage: string, headers: Record<string, string> = {}) =>
    send(res, status, { errors: [{ code, message, long_message: longMessage, meta: {} }], clerk_trace_id: `trace_${requestNumber}` }, headers);

  const route = (req: IncomingMessage, res: ServerResponse, url: URL): number => {
    const parts = url.pathname.replace(/\/+$/, '').split('/').slice(1);
    if (parts[0] !== 'v1') {
      error(res, 404, 'resource_not_found', 'not found', `No route ${url.pathname}`);
      return 404;
    }
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      error(res, 401, 'authentication_invalid', 'Unauthorized request', 'The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.');
      return 401;
    }
    if (req.method !== 'GET') {
      error(res, 405, 'method_not_allowed', 'method not allowed', 'This fake only implements reads');
      return 405;
    }
    const [, resource, id, sub] = parts;
    const q = url.searchParams;
    const list = (all: readonly Json[], bare = false): number => {
      const items = api.hiddenFromListings.size ? all.filter((i) => !api.hiddenFromListings.has(String(i.id))) : all;
      const result = paginate(items, q);
      if ('error' in result) {
        const [status, code, message, long] = result.error;
        error(res, status, code, message, long);
        return status;
      }
      const broken = corrupt;
      corrupt = undefined;
      if (broken === 'not_json') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>Bad gateway</body></html>');
        return 200;
      }
      if (broken === 'no_data') {
        send(res, 200, { total_count: items.length });
        return 200;
      }
      const page = broken === 'no_id' ? result.page.map((item, i) => (i === 0 ? { ...item, id: undefined } : item)) : result.page;
      send(res, 200, bare ? page : { data: page, total_count: items.length });
      return 200;
    };
    /** Clerk's status filter: the statuses asked for, or `fallback` when none is. */
    const byStatus = (items: readonly Json[], fallback: (status: string) => boolean) => {
      const asked = q.getAll('status');
      return items.filter((i) => (asked.length ? asked.includes(String(i.status)) : fallback(String(i.status))));
    };
    const instanceWide = (items: () => Json[]): number => {
      if (api.instanceWideNotFound) {
        error(res, 404, 'resource_not_found', 'not found', `No route ${url.pathname}`);
        return 404;
      }
      return list(items());
    };
    const one = (item: Json | undefined, what: string): number => {
      if (!item) {
        error(res, 404, 'resource_not_found', 'not found', `No ${what} was found with id ${id}`);
        return 404;
      }
      send(res, 200, item);
      return 200;
    };
    switch (resource) {
      case 'users':
        if (id === 'count' && !sub) {
          send(res, 200, { object: 'total_count', total_count: api.users.length });
          return 200;
        }
        return id ? one(api.users.find((u) => u.id === id), 'user') : list(api.users, true);
      case 'organizations': {
        if (!id) return list(api.organizations);
        const org = api.organizations.find((o) => o.id === id);
        if (!sub) return one(org, 'organization');
        if (!org) return one(undefined, 'organization');
        if (sub === 'memberships') return list(api.memberships.get(id) ?? []);
        if (sub === 'invitations') return list(byStatus(api.organizationInvitations.get(id) ?? [], (s) => s === 'pending'));
        if (sub === 'domains') return list(api.domains.filter((d) => d.organization_id === id));
        break;
      }
      case 'organization_memberships':
        if (!id) return instanceWide(() => [...api.memberships.values()].flat());
        break;
      case 'organization_invitations':
        if (!id) return instanceWide(() => byStatus([...api.organizationInvitations.values()].flat(), (s) => s === 'pending'));
        break;
      case 'organization_domains':
        if (!id) return instanceWide(() => api.domains);
        break;
      case 'waitlist_entries':
        if (!id) return list(api.waitlistEntries);
        break;
      case 'billing':
        if (id === 'subscription_items' && !sub) return list(api.subscriptionItems);
        break;
      case 'invitations':
        if (!id) return list(byStatus(api.invitations, (s) => s !== 'revoked'), q.get('paginated') !== 'true');
        return one(api.invitations.find((i) => i.id === id), 'invitation');
      case 'organization_roles':
        return id ? one(api.roles.find((r) => r.id === id), 'role') : list(api.roles);
      case 'organization_permissions':
        return id ? one(api.permissions.find((p) => p.id === id), 'permission') : list(api.permissions);
    }
    error(res, 404, 'resource_not_found', 'not found', `No route ${url.pathname}`);
    return 404;
  };

  const server = createServer((req, res) => {
    requestNumber++;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0 };
    api.requests.push(recorded);
    try {
      api.onRequest?.(recorded);
    } catch {
      // A hook that throws only stops the test's own bookkeeping, never the answer.
    }
    const forcedStatus = forced.shift();
    if (forcedStatus !== undefined) {
      recorded.status = forcedStatus;
      if (forcedStatus === 429) error(res, 429, 'too_many_requests', 'Too Many Requests', 'You have exceeded the rate limit, please retry later', { 'retry-after': '0' });
      else error(res, forcedStatus, forcedStatus >= 500 ? 'internal_clerk_error' : 'request_failed', 'Request failed', `Forced status ${forcedStatus}`);
      return;
    }
    if (window) {
      const now = Date.now();
      while (sent.length > 0 && sent[0]! <= now - window.windowMs) sent.shift();
      if (sent.length >= window.requests) {
        recorded.status = 429;
        const seconds = Math.max(1, Math.ceil((sent[0]! + window.windowMs - now) / 1000));
        error(res, 429, 'too_many_requests', 'Too Many Requests', 'You have exceeded the rate limit, please retry later', { 'retry-after': String(seconds) });
        return;
      }
      sent.push(now);
    }
    if (rate && requestNumber % rate.every === 0) {
      recorded.status = 429;
      error(res, 429, 'too_many_requests', 'Too Many Requests', 'You have exceeded the rate limit, please retry later', { 'retry-after': String(rate.retryAfterSeconds) });
      return;
    }
    recorded.status = route(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (api as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return api;
}
