/** sms_messages: sms.created. Clerk's schema names the creation time `created_at_ms` (examples use `created_at`); both are read. */
import { z } from 'zod';
import { smsMessages } from '../../db/schema/projections.js';
import { defineProjection } from '../projection.js';

export const smsMessagesProjection = defineProjection({
  table: smsMessages,
  events: { 'sms.created': 'upsert' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    toPhoneNumber: (d) => d.to_phone_number,
    fromPhoneNumber: (d) => d.from_phone_number,
    slug: (d) => d.slug,
    status: (d) => d.status,
    userId: (d) => d.user_id,
    phoneNumberId: (d) => d.phone_number_id,
    deliveredByClerk: (d) => d.delivered_by_clerk,
  },
  personal: ['toPhoneNumber'],
  owner: 'userId',
});
