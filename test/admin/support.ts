/** Set-up shared by the admin tests: a ClerkSync with the admin mounted, signed deliveries, drain. */
import type { Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/logger.js';
import { drainEvents } from '../../src/apply/drain.js';
import { Hooks } from '../../src/projections/index.js';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { createStandaloneServer, webRoute } from '../../src/server/standalone.js';
import { signedHeaders } from '../../src/verify/index.js';
import { listen } from '../support/http.js';

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const TOKEN = 'admin-token-0123456789abcdef';

export interface AdminServer {
  sync: ClerkSync;
  url: string;
  close(): Promise<void>;
}

export async function startAdmin(db: Db, options: { now?: () => number } = {}): Promise<AdminServer> {
  const sync = createClerkSync({ db, secret: SECRET, adminToken: TOKEN, logger: false, now: options.now });
  const server = createStandaloneServer(sync, { routes: [webRoute('/metrics', sync.handleMetrics), webRoute('/admin', sync.handleAdmin)] });
  const url = await listen(server);
  return {
    sync,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let counter = 0;

export async function deliver(url: string, event: Record<string, unknown>, id = `msg_admin_${++counter}_${Date.now()}`): Promise<string> {
  const body = JSON.stringify(event);
  const response = await fetch(`${url}/webhooks/clerk`, { method: 'POST', headers: signedHeaders({ id, timestamp: Math.floor(Date.now() / 1000), body, secret: SECRET }), body });
  if (response.status !== 200) throw new Error(`delivery ${id} answered ${response.status}: ${await response.text()}`);
  return id;
}

/** Applies what is due; `hooks` lets a test break (and then fix) the apply of some type. */
export function drain(db: Db, hooks?: Hooks) {
  return drainEvents({
    db,
    schema: 'clerk',
    logger: createLogger('silent'),
    context: { schema: 'clerk', deleteMode: 'soft', hooks },
    effects: { welcomeEmail: true, adminWelcomeEmail: false, slackSignup: false, emailRelay: false },
    retry: { maxAttempts: 1, retryBaseMs: 10, retryMaxMs: 100 },
  });
}

export function userEvent(type: string, id: string, fields: Record<string, unknown> = {}, at = Date.now()) {
  return {
    type,
    object: 'event',
    timestamp: at,
    instance_id: 'ins_admin',
    event_attributes: { http_request: { client_ip: '203.0.113.9', user_agent: 'Mozilla/5.0 test' } },
    data: {
      object: 'user',
      id,
      first_name: 'Ada',
      last_name: 'Lovelace',
      username: 'ada',
      primary_email_address_id: `idn_${id}`,
      email_addresses: [{ id: `idn_${id}`, object: 'email_address', email_address: `${id}@example.com`, linked_to: [] }],
      phone_numbers: [{ id: `idn_p_${id}`, object: 'phone_number', phone_number: '+15555550100', linked_to: [] }],
      public_metadata: { role: 'member' },
      private_metadata: { plan: 'pro' },
      created_at: at - 1000,
      updated_at: at,
      ...fields,
    },
  };
}

export function organizationEvent(id: string, name: string, at = Date.now()) {
  return { type: 'organization.created', object: 'event', timestamp: at, data: { object: 'organization', id, name, slug: name.toLowerCase().replace(/\W+/g, '-'), created_at: at, updated_at: at, public_metadata: {} } };
}

export function membershipEvent(id: string, organizationId: string, userId: string, role: string, at = Date.now()) {
  return {
    type: 'organizationMembership.created',
    object: 'event',
    timestamp: at,
    data: {
      object: 'organization_membership',
      id,
      role,
      permissions: ['org:posts:read'],
      organization: { object: 'organization', id: organizationId, name: 'Acme', slug: 'acme', created_at: at, updated_at: at },
      public_user_data: { user_id: userId, first_name: 'Ada', last_name: 'Lovelace', identifier: `${userId}@example.com` },
      created_at: at,
      updated_at: at,
    },
  };
}
