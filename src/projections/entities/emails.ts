/** emails: email.created (emails Clerk sends, or hands to you to send). The body stays in `raw` only. */
import { z } from 'zod';
import { emails } from '../../db/schema/projections.js';
import { defineProjection } from '../projection.js';

export const emailsProjection = defineProjection({
  table: emails,
  events: { 'email.created': 'upsert' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    toEmailAddress: (d) => d.to_email_address,
    fromEmailName: (d) => d.from_email_name,
    subject: (d) => d.subject,
    slug: (d) => d.slug,
    status: (d) => d.status,
    userId: (d) => d.user_id,
    emailAddressId: (d) => d.email_address_id,
    deliveredByClerk: (d) => d.delivered_by_clerk,
  },
  personal: ['toEmailAddress', 'subject'],
  owner: 'userId',
});
