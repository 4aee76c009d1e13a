/** subscriptions (billing): subscription.created/updated/active/pastDue. */
import { z } from 'zod';
import { subscriptions } from '../../db/schema/projections.js';
import { defineProjection, read, type Data } from '../projection.js';
import { payerColumns } from './payer.js';

/** The item that says which plan the subscription is on: the active one, else the first. */
function currentItem(d: Data): Data | null {
  const items = Array.isArray(d.items) ? d.items.map(read.obj).filter((i): i is Data => i !== null) : [];
  return items.find((i) => i.status === 'active') ?? items[0] ?? null;
}

export const subscriptionsProjection = defineProjection({
  table: subscriptions,
  events: { 'subscription.created': 'upsert', 'subscription.updated': 'upsert', 'subscription.active': 'upsert', 'subscription.pastDue': 'upsert' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    ...payerColumns,
    status: (d) => d.status,
    planId: (d) => {
      const item = currentItem(d);
      return item ? (item.plan_id ?? read.at(item, 'plan', 'id')) : null;
    },
    planSlug: (d) => {
      const item = currentItem(d);
      return item ? read.at(item, 'plan', 'slug') : null;
    },
    latestPaymentId: (d) => d.latest_payment_id,
    paymentSourceId: (d) => d.payment_source_id,
    activeAt: (d) => d.active_at,
    pastDueAt: (d) => d.past_due_at,
    canceledAt: (d) => d.canceled_at,
    endedAt: (d) => d.ended_at,
  },
  owner: 'userId',
});
