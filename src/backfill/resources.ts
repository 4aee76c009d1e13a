/**
 * What backfill lists: every table of the `clerk` schema that Clerk's Backend API has an
 * instance-wide listing for, the event type its entities become, and the table each lands in
 * (reconcile compares that table with the listing).
 *
 * A resource may take several listings: Clerk's invitation lists leave out other statuses than
 * the one asked for (revoked ones by default), so each status is its own listing. Memberships,
 * organization invitations and domains are listed for the whole instance; an instance that
 * answers 404 there is listed one organization at a time (`perOrganization`).
 *
 * Not listed, because the Backend API has no instance-wide listing for them: sessions (listed
 * per user or client only), email and SMS messages, billing subscriptions and payment attempts
 * (read per payer only); webhooks fill those tables.
 */
import type { ListingRequest } from './clerk-api.js';

export type ResourceName =
  | 'permissions'
  | 'roles'
  | 'users'
  | 'organizations'
  | 'memberships'
  | 'organizationInvitations'
  | 'organizationDomains'
  | 'invitations'
  | 'waitlistEntries'
  | 'subscriptionItems';

/** In the order a full backfill runs them: roles before the memberships that name them, organizations before their members. */
export const RESOURCE_NAMES: readonly ResourceName[] = [
  'permissions', 'roles', 'users', 'organizations', 'memberships', 'organizationInvitations', 'organizationDomains', 'invitations', 'waitlistEntries', 'subscriptionItems',
];

export interface ResourceSpec {
  /** The event type an entity found in the API is stored as. */
  eventType: string;
  /** The event type reconcile uses for an entity Clerk no longer has; none for invitations (Clerk revokes them, it does not delete them). */
  deletedType?: string;
  table: string;
}

export const RESOURCES: Record<ResourceName, ResourceSpec> = {
  permissions: { eventType: 'permission.updated', deletedType: 'permission.deleted', table: 'permissions' },
  roles: { eventType: 'role.updated', deletedType: 'role.deleted', table: 'roles' },
  users: { eventType: 'user.updated', deletedType: 'user.deleted', table: 'users' },
  organizations: { eventType: 'organization.updated', deletedType: 'organization.deleted', table: 'organizations' },
  memberships: { eventType: 'organizationMembership.updated', deletedType: 'organizationMembership.deleted', table: 'organization_memberships' },
  organizationInvitations: { eventType: 'organizationInvitation.created', table: 'organization_invitations' },
  organizationDomains: { eventType: 'organizationDomain.updated', deletedType: 'organizationDomain.deleted', table: 'organization_domains' },
  invitations: { eventType: 'invitation.created', table: 'invitations' },
  waitlistEntries: { eventType: 'waitlistEntry.updated', table: 'waitlist_entries' },
  subscriptionItems: { eventType: 'subscriptionItem.updated', table: 'subscription_items' },
};

export interface ListingSpec {
  /** The key of its row in clerk.backfill_state (`invitations:revoked`). */
  key: string;
  resource: ResourceName;
  operation: string;
  request: ListingRequest;
  /** A separate count endpoint (GET /v1/users answers a bare array without a total). */
  countPath?: string;
  /** The per-organization path for instances without the instance-wide one (`{id}` is the organization). */
  perOrganization?: ListingRequest;
}

const OLDEST_FIRST = ['order_by', '+created_at'] as const;
const INVITATION_STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;

function byStatus(resource: ResourceName, operation: string, path: string, perOrganization?: string, extra: ReadonlyArray<readonly [string, string]> = []): ListingSpec[] {
  return INVITATION_STATUSES.map((status) => ({
    key: `${resource}:${status}`,
    resource,
    operation,
    request: { path, query: [OLDEST_FIRST, ['status', status], ...extra] },
    ...(perOrganization ? { perOrganization: { path: perOrganization, query: [['status', status]] } } : {}),
  }));
}

// Oldest first where the API sorts: entities created during the run land after the pages already read instead of shifting them.
export const LISTINGS: readonly ListingSpec[] = [
  { key: 'permissions', resource: 'permissions', operation: 'organization_permissions.list', request: { path: '/organization_permissions' } },
  { key: 'roles', resource: 'roles', operation: 'organization_roles.list', request: { path: '/organization_roles' } },
  { key: 'users', resource: 'users', operation: 'users.list', request: { path: '/users', query: [OLDEST_FIRST] }, countPath: '/users/count' },
  { key: 'organizations', resource: 'organizations', operation: 'organizations.list', request: { path: '/organizations', query: [OLDEST_FIRST, ['include_members_count', 'true']] } },
  {
    key: 'memberships', resource: 'memberships', operation: 'organization_memberships.list',
    request: { path: '/organization_memberships', query: [OLDEST_FIRST] },
    perOrganization: { path: '/organizations/{id}/memberships' },
  },
  ...byStatus('organizationInvitations', 'organization_invitations.list', '/organization_invitations', '/organizations/{id}/invitations'),
  {
    key: 'organizationDomains', resource: 'organizationDomains', operation: 'organization_domains.list',
    request: { path: '/organization_domains', query: [OLDEST_FIRST] },
    perOrganization: { path: '/organizations/{id}/domains' },
  },
  // paginated=true: `{ data, total_count }` instead of a bare array.
  ...byStatus('invitations', 'invitations.list', '/invitations', undefined, [['paginated', 'true']]),
  { key: 'waitlistEntries', resource: 'waitlistEntries', operation: 'waitlist_entries.list', request: { path: '/waitlist_entries', query: [OLDEST_FIRST] } },
  {
    key: 'subscriptionItems', resource: 'subscriptionItems', operation: 'billing.subscription_items.list',
    request: { path: '/billing/subscription_items', query: [['paginated', 'true'], ['include_free', 'true']] },
  },
];

/** The listings of the chosen resources, in run order. */
export function listingsOf(resources: readonly ResourceName[]): ListingSpec[] {
  return LISTINGS.filter((l) => resources.includes(l.resource));
}

export function parseResources(text: string): ResourceName[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(RESOURCE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`Unknown resource(s) ${unknown.join(', ')}: choose from ${RESOURCE_NAMES.join(', ')}`);
  return RESOURCE_NAMES.filter((n) => names.includes(n));
}
