/**
 * organization_memberships: organizationMembership.created/updated/deleted. The deleted event
 * carries the whole membership with an unbumped updated_at: its tombstone wins anyway (tombstones
 * are final) and its data competes like an update's.
 */
import { z } from 'zod';
import { organizationMemberships } from '../../db/schema/projections.js';
import { defineProjection, read } from '../projection.js';

export const organizationMembershipsProjection = defineProjection({
  table: organizationMemberships,
  events: {
    'organizationMembership.created': 'upsert',
    'organizationMembership.updated': 'upsert',
    'organizationMembership.deleted': 'delete-with-data',
  },
  payload: z.looseObject({
    id: z.string().min(1),
    organization: z.looseObject({ id: z.string().min(1) }),
    public_user_data: z.looseObject({ user_id: z.string().min(1) }),
  }),
  columns: {
    organizationId: (d) => read.at(d, 'organization', 'id'),
    userId: (d) => read.at(d, 'public_user_data', 'user_id'),
    role: (d) => d.role,
    permissions: (d) => d.permissions,
    publicMetadata: (d) => d.public_metadata,
    roleName: (d) => d.role_name,
    identifier: (d) => read.at(d, 'public_user_data', 'identifier'),
    userFirstName: (d) => read.at(d, 'public_user_data', 'first_name'),
    userLastName: (d) => read.at(d, 'public_user_data', 'last_name'),
  },
  personal: ['identifier', 'userFirstName', 'userLastName'],
  owner: 'userId',
});
