/** Clerk events for worker tests, stored straight into the inbox the way intake stores them. */
import type { Queryable } from '../../src/core/db.js';
import { enqueueEvents, type InboxItem } from '../../src/inbox/enqueue.js';

export const T0 = 1_750_000_000_000;

export interface TestEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  timestamp?: number;
  source?: 'webhook' | 'backfill';
}

export function user(id: string, version: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    object: 'user',
    first_name: 'First',
    last_name: `Last ${version}`,
    username: null,
    primary_email_address_id: `idn_${id}`,
    email_addresses: [{ id: `idn_${id}`, object: 'email_address', email_address: `${id}@example.com` }],
    public_metadata: {},
    created_at: T0,
    updated_at: T0 + version,
    ...extra,
  };
}

export function membership(id: string, userId: string, role: string, version = 0): Record<string, unknown> {
  return {
    id,
    object: 'organization_membership',
    role,
    permissions: [],
    organization: { id: 'org_1', object: 'organization', name: 'Acme', slug: 'acme', created_at: T0, updated_at: T0 },
    public_user_data: { user_id: userId, first_name: 'Ada', last_name: 'Admin', identifier: `${userId}@example.com` },
    created_at: T0,
    updated_at: T0 + version,
  };
}

export function item(e: TestEvent): InboxItem {
  const timestamp = e.timestamp ?? T0 + 1000;
  const payload = JSON.stringify({ type: e.type, object: 'event', timestamp, instance_id: 'ins_1', data: e.data });
  return {
    id: e.id,
    type: e.type,
    clerkTimestamp: timestamp,
    instanceId: 'ins_1',
    payload,
    source: e.source ?? 'webhook',
  };
}

export async function store(db: Queryable, events: TestEvent[], schema = 'clerk'): Promise<void> {
  for (let i = 0; i < events.length; i += 500) await enqueueEvents(db, schema, events.slice(i, i + 500).map(item));
}
