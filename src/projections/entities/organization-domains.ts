/** organization_domains: organizationDomain.created/updated/deleted. */
import { z } from 'zod';
import { organizationDomains } from '../../db/schema/projections.js';
import { defineProjection, read } from '../projection.js';

export const organizationDomainsProjection = defineProjection({
  table: organizationDomains,
  events: { 'organizationDomain.created': 'upsert', 'organizationDomain.updated': 'upsert', 'organizationDomain.deleted': 'delete' },
  payload: z.looseObject({ id: z.string().min(1) }),
  columns: {
    organizationId: (d) => d.organization_id ?? read.at(d, 'public_organization_data', 'id'),
    name: (d) => d.name,
    enrollmentMode: (d) => d.enrollment_mode,
    // `verification` is the deprecated alias of `affiliation_verification`.
    verificationStatus: (d) => read.at(d, 'affiliation_verification', 'status') ?? read.at(d, 'verification', 'status'),
  },
});
