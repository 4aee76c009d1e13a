/** permissions: permission.created/updated/deleted. */
import { z } from 'zod';
import { permissions } from '../../db/schema/projections.js';
import { defineProjection } from '../projection.js';

export const permissionsProjection = defineProjection({
  table: permissions,
  events: { 'permission.created': 'upsert', 'permission.updated': 'upsert', 'permission.deleted': 'delete' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    key: (d) => d.key,
    name: (d) => d.name,
    description: (d) => d.description,
    type: (d) => d.type,
  },
});
