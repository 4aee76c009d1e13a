/** organizations: organization.created/updated/deleted. */
import { z } from 'zod';
import { organizations } from '../../db/schema/projections.js';
import { defineProjection } from '../projection.js';

export const organizationsProjection = defineProjection({
  table: organizations,
  events: { 'organization.created': 'upsert', 'organization.updated': 'upsert', 'organization.deleted': 'delete' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    name: (d) => d.name,
    slug: (d) => d.slug,
    imageUrl: (d) => d.image_url,
    createdBy: (d) => d.created_by,
    publicMetadata: (d) => d.public_metadata,
    privateMetadata: (d) => d.private_metadata,
    maxAllowedMemberships: (d) => d.max_allowed_memberships,
    membersCount: (d) => d.members_count,
    pendingInvitationsCount: (d) => d.pending_invitations_count,
  },
});
