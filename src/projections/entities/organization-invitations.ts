/** organization_invitations: organizationInvitation.created/accepted/revoked (a revoked invitation is a status, not a tombstone). */
import { z } from 'zod';
import { organizationInvitations } from '../../db/schema/projections.js';
import { defineProjection, read } from '../projection.js';

const STATUS_OF: Record<string, string> = {
  'organizationInvitation.created': 'pending',
  'organizationInvitation.accepted': 'accepted',
  'organizationInvitation.revoked': 'revoked',
};

export const organizationInvitationsProjection = defineProjection({
  table: organizationInvitations,
  events: Object.fromEntries(Object.keys(STATUS_OF).map((type) => [type, 'upsert' as const])),
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    emailAddress: (d) => d.email_address,
    organizationId: (d) => d.organization_id ?? read.at(d, 'public_organization_data', 'id'),
    role: (d) => d.role,
    status: (d, e) => d.status ?? STATUS_OF[e.type],
    userId: (d) => d.user_id,
    expiresAt: (d) => d.expires_at,
    roleName: (d) => d.role_name,
    inviterId: (d) => d.inviter_id,
  },
  personal: ['emailAddress'],
  owner: 'userId',
});
