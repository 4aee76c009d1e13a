/** roles: role.created/updated/deleted; `permissions` keeps the keys of the role's permissions (joined by user_permissions). */
import { z } from 'zod';
import { roles } from '../../db/schema/projections.js';
import { defineProjection, read } from '../projection.js';

export const rolesProjection = defineProjection({
  table: roles,
  events: { 'role.created': 'upsert', 'role.updated': 'upsert', 'role.deleted': 'delete' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    key: (d) => d.key,
    name: (d) => d.name,
    description: (d) => d.description,
    permissions: (d) => (Array.isArray(d.permissions) ? d.permissions.map((p) => (typeof p === 'string' ? p : read.obj(p)?.key)) : []),
  },
});
