/**
 * The read side for apps: permission checks, tenant-scoped queries over the projection tables and
 * views, and row-level security for the app's own tables (rls.ts, also `clerk-sync/rls`).
 */
export { can, accessFor, type OrganizationAccess } from './can.js';
export { forOrganization, type OrganizationScope, type OrganizationMember, type OrganizationUser, type OrganizationInvitationRow, type OrganizationDomainRow } from './tenant.js';
export type { AccessOptions } from './options.js';
export { withClerkUser, assertRowLevelSecurity, organizationPolicies, organizationPolicySql, type OrganizationPolicyOptions } from './rls.js';
