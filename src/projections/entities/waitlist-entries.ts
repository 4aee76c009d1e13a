/** waitlist_entries: waitlistEntry.created/updated. */
import { z } from 'zod';
import { waitlistEntries } from '../../db/schema/projections.js';
import { defineProjection } from '../projection.js';

export const waitlistEntriesProjection = defineProjection({
  table: waitlistEntries,
  events: { 'waitlistEntry.created': 'upsert', 'waitlistEntry.updated': 'upsert' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    emailAddress: (d) => d.email_address,
    status: (d) => d.status,
  },
});
