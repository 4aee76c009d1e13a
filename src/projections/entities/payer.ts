/** The payer columns shared by the billing projections: the payer object names a user or an organization. */
import { read, type Data } from '../projection.js';

export const payerColumns = {
  payerId: (d: Data) => d.payer_id ?? read.at(d, 'payer', 'id'),
  userId: (d: Data) => read.at(d, 'payer', 'user_id'),
  organizationId: (d: Data) => read.at(d, 'payer', 'organization_id'),
};
