/** invitations (to the instance, not to an organization): invitation.created/accepted/revoked. */
import { z } from 'zod';
import { invitations } from '../../db/schema/projections.js';
import { defineProjection } from '../projection.js';

const STATUS_OF: Record<string, string> = {
  'invitation.created': 'pending',
  'invitation.accepted': 'accepted',
  'invitation.revoked': 'revoked',
};

export const invitationsProjection = defineProjection({
  table: invitations,
  events: Object.fromEntries(Object.keys(STATUS_OF).map((type) => [type, 'upsert' as const])),
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    emailAddress: (d) => d.email_address,
    role: (d) => d.role,
    status: (d, e) => d.status ?? STATUS_OF[e.type],
    expiresAt: (d) => d.expires_at,
  },
});
