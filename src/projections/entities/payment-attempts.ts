/** payment_attempts (billing): paymentAttempt.created/updated. */
import { z } from 'zod';
import { paymentAttempts } from '../../db/schema/projections.js';
import { defineProjection, read } from '../projection.js';
import { payerColumns } from './payer.js';

export const paymentAttemptsProjection = defineProjection({
  table: paymentAttempts,
  events: { 'paymentAttempt.created': 'upsert', 'paymentAttempt.updated': 'upsert' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    ...payerColumns,
    payerId: (d) => read.at(d, 'payer', 'id'),
    paymentId: (d) => d.payment_id,
    // invoice_id is the deprecated name of statement_id.
    statementId: (d) => d.statement_id ?? d.invoice_id,
    status: (d) => d.status,
    chargeType: (d) => d.charge_type,
    amount: (d) => read.at(d, 'totals', 'grand_total', 'amount'),
    currency: (d) => read.at(d, 'totals', 'grand_total', 'currency'),
    billingDate: (d) => d.billing_date,
    paidAt: (d) => d.paid_at,
    failedAt: (d) => d.failed_at,
    failedReason: (d) => read.at(d, 'failed_reason', 'code'),
    paymentMethod: (d) => read.at(d, 'payment_source', 'payment_method'),
    cardType: (d) => read.at(d, 'payment_source', 'card_type'),
    paymentMethodLast4: (d) => read.at(d, 'payment_source', 'last4'),
  },
  owner: 'userId',
});
