/**
 * What backfill lists, the event types its findings become, and the projection table each one
 * lands in (reconcile compares that table with the listing). Memberships and organization
 * invitations are listed per organization, inside the organizations listing.
 */
import type { ClerkApi, Json, Page } from './clerk-api.js';

export type ResourceName = 'users' | 'organizations' | 'memberships' | 'organizationInvitations' | 'invitations' | 'roles' | 'permissions';

/** Top-level listings, in the order a full backfill runs them (roles before the memberships that name them). */
export const LISTINGS = ['permissions', 'roles', 'users', 'organizations', 'invitations'] as const;
export type ListingName = (typeof LISTINGS)[number];

export interface ResourceSpec {
  /** The event type an entity found in the API is stored as. */
  eventType: string;
  /** The event type reconcile uses for an entity Clerk no longer has; none for invitations (Clerk revokes them, it does not delete them). */
  deletedType?: string;
  table: string;
}

export const RESOURCES: Record<ResourceName, ResourceSpec> = {
  users: { eventType: 'user.updated', deletedType: 'user.deleted', table: 'users' },
  organizations: { eventType: 'organization.updated', deletedType: 'organization.deleted', table: 'organizations' },
  memberships: { eventType: 'organizationMembership.updated', deletedType: 'organizationMembership.deleted', table: 'organization_memberships' },
  organizationInvitations: { eventType: 'organizationInvitation.created', table: 'organization_invitations' },
  invitations: { eventType: 'invitation.created', table: 'invitations' },
  roles: { eventType: 'role.updated', deletedType: 'role.deleted', table: 'roles' },
  permissions: { eventType: 'permission.updated', deletedType: 'permission.deleted', table: 'permissions' },
};

export function listTopLevel(api: ClerkApi, name: ListingName, offset: number, limit: number): Promise<Page> {
  switch (name) {
    case 'users':
      return api.listUsers(offset, limit);
    case 'organizations':
      return api.listOrganizations(offset, limit);
    case 'invitations':
      return api.listInvitations(offset, limit);
    case 'roles':
      return api.listRoles(offset, limit);
    case 'permissions':
      return api.listPermissions(offset, limit);
  }
}

/** Every page of a listing (used for an organization's memberships and invitations). */
export async function listAll(fetchPage: (offset: number, limit: number) => Promise<Page>, limit: number): Promise<Json[]> {
  const all: Json[] = [];
  for (let offset = 0; ; ) {
    const page = await fetchPage(offset, limit);
    all.push(...page.data);
    offset += page.data.length;
    if (page.data.length < limit || (page.totalCount !== undefined && offset >= page.totalCount)) return all;
  }
}

export function parseListings(text: string): ListingName[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(LISTINGS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`Unknown resource(s) ${unknown.join(', ')}: choose from ${LISTINGS.join(', ')}`);
  return LISTINGS.filter((n) => names.includes(n));
}
