/**
 * The read side for apps: permission checks and tenant-scoped queries over the projection tables
 * and views. Reads only; imports core and db (identifiers).
 */
export { can, accessFor, type OrganizationAccess } from './can.js';
export { forOrganization, type OrganizationScope, type OrganizationMember, type OrganizationUser, type OrganizationInvitationRow, type OrganizationDomainRow } from './tenant.js';
export type { AccessOptions } from './options.js';
