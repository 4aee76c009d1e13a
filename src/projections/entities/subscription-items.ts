/** subscription_items (billing): every subscriptionItem.* event carries the whole item; its status comes from the data. */
import { z } from 'zod';
import { subscriptionItems } from '../../db/schema/projections.js';
import { defineProjection, read } from '../projection.js';
import { payerColumns } from './payer.js';

export const SUBSCRIPTION_ITEM_EVENTS = [
  'created', 'updated', 'active', 'canceled', 'upcoming', 'ended', 'abandoned', 'incomplete', 'pastDue', 'freeTrialEnding', 'expired',
].map((suffix) => `subscriptionItem.${suffix}`);

export const subscriptionItemsProjection = defineProjection({
  table: subscriptionItems,
  events: Object.fromEntries(SUBSCRIPTION_ITEM_EVENTS.map((type) => [type, 'upsert' as const])),
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    ...payerColumns,
    payerId: (d) => read.at(d, 'payer', 'id'),
    subscriptionId: (d) => d.subscription_id,
    status: (d) => d.status,
    planId: (d) => d.plan_id ?? read.at(d, 'plan', 'id'),
    planSlug: (d) => read.at(d, 'plan', 'slug'),
    planName: (d) => read.at(d, 'plan', 'name'),
    amount: (d) => read.at(d, 'plan', 'amount'),
    currency: (d) => read.at(d, 'plan', 'currency'),
    interval: (d) => d.interval,
    isFreeTrial: (d) => d.is_free_trial,
    periodStart: (d) => d.period_start,
    periodEnd: (d) => d.period_end,
    seats: (d) => read.at(d, 'seats', 'quantity'),
  },
  owner: 'userId',
});
