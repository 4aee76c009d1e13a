/**
 * sessions: session.created/pending/ended/removed/revoked. Every one carries the whole session;
 * the winning event sets status, and ended_at (its version) when it is one that ends the session.
 */
import { z } from 'zod';
import { sessions } from '../../db/schema/projections.js';
import { defineProjection, read } from '../projection.js';

const STATUS_OF: Record<string, string> = {
  'session.created': 'active',
  'session.pending': 'pending',
  'session.ended': 'ended',
  'session.removed': 'removed',
  'session.revoked': 'revoked',
};
const ENDING = new Set(['session.ended', 'session.removed', 'session.revoked']);

export const sessionsProjection = defineProjection({
  table: sessions,
  events: Object.fromEntries(Object.keys(STATUS_OF).map((type) => [type, 'upsert' as const])),
  payload: z.looseObject({ id: z.string().min(1), user_id: z.string().min(1) }),
  columns: {
    userId: (d) => d.user_id,
    clientId: (d) => d.client_id,
    status: (d, e) => d.status ?? STATUS_OF[e.type],
    lastActiveOrganizationId: (d) => d.last_active_organization_id,
    lastActiveAt: (d) => d.last_active_at,
    expireAt: (d) => d.expire_at,
    abandonAt: (d) => d.abandon_at,
    endedAt: (_d, e) => (ENDING.has(e.type) ? e.key.version : null),
    actor: (d) => read.obj(d.actor),
    ipAddress: (d) => read.at(d, 'latest_activity', 'ip_address'),
    city: (d) => read.at(d, 'latest_activity', 'city'),
    country: (d) => read.at(d, 'latest_activity', 'country'),
    browserName: (d) => read.at(d, 'latest_activity', 'browser_name'),
    deviceType: (d) => read.at(d, 'latest_activity', 'device_type'),
    isMobile: (d) => read.at(d, 'latest_activity', 'is_mobile'),
  },
  // Where and on what a person signs in is theirs; the actor names only user ids.
  personal: ['ipAddress', 'city', 'country', 'browserName', 'deviceType', 'isMobile'],
  owner: 'userId',
});
