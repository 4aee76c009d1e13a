/**
 * Tenant isolation: every query a scope offers is bound to one organization id, so code written
 * against the scope cannot read another tenant's rows by forgetting a where clause.
 */
import type { Queryable } from '../core/db.js';
import { can } from './can.js';
import { schemaOf, type AccessOptions } from './options.js';

export interface OrganizationMember {
  membershipId: string;
  userId: string;
  role: string | null;
  permissions: string[];
}

export interface OrganizationUser {
  id: string;
  primaryEmail: string | null;
  firstName: string | null;
  lastName: string | null;
  imageUrl: string | null;
  role: string | null;
}

export interface OrganizationInvitationRow {
  id: string;
  emailAddress: string | null;
  role: string | null;
  status: string | null;
  expiresAt: Date | null;
}

export interface OrganizationDomainRow {
  id: string;
  name: string | null;
  enrollmentMode: string | null;
  verificationStatus: string | null;
}

export interface OrganizationScope {
  readonly organizationId: string;
  /** Live memberships (see active_organization_memberships). */
  memberships(): Promise<OrganizationMember[]>;
  /** Users with a live membership, with their membership role; users not synced yet are left out. */
  users(): Promise<OrganizationUser[]>;
  /** The organization's invitations, optionally of one status (pending, accepted, revoked). */
  invitations(filter?: { status?: string }): Promise<OrganizationInvitationRow[]>;
  /** The organization's domains that are not deleted. */
  domains(): Promise<OrganizationDomainRow[]>;
  can(userId: string, permission: string): Promise<boolean>;
}

/**
 * @example
 * const org = forOrganization(db, auth.orgId);
 * const members = await org.memberships();
 */
export function forOrganization(db: Queryable, organizationId: string, options: AccessOptions = {}): OrganizationScope {
  if (typeof organizationId !== 'string' || organizationId === '') throw new TypeError('forOrganization needs an organization id');
  const s = schemaOf(options);
  return {
    organizationId,
    async memberships() {
      const r = await db.query<{ id: string; user_id: string; role: string | null; permissions: string[] }>(
        `select id, user_id, role, permissions from ${s}.active_organization_memberships where organization_id = $1 order by user_id, id`,
        [organizationId],
      );
      return r.rows.map((m) => ({ membershipId: m.id, userId: m.user_id, role: m.role, permissions: m.permissions }));
    },
    async users() {
      const r = await db.query<{ id: string; primary_email: string | null; first_name: string | null; last_name: string | null; image_url: string | null; role: string | null }>(
        `select u.id, u.primary_email, u.first_name, u.last_name, u.image_url, m.role
           from ${s}.active_organization_memberships m
           join ${s}.users u on u.id = m.user_id
          where m.organization_id = $1
          order by u.id`,
        [organizationId],
      );
      return r.rows.map((u) => ({ id: u.id, primaryEmail: u.primary_email, firstName: u.first_name, lastName: u.last_name, imageUrl: u.image_url, role: u.role }));
    },
    async invitations(filter = {}) {
      const r = await db.query<{ id: string; email_address: string | null; role: string | null; status: string | null; expires_at: Date | null }>(
        `select id, email_address, role, status, expires_at from ${s}.organization_invitations
          where organization_id = $1 and deleted_at is null and ($2::text is null or status = $2) order by id`,
        [organizationId, filter.status ?? null],
      );
      return r.rows.map((i) => ({ id: i.id, emailAddress: i.email_address, role: i.role, status: i.status, expiresAt: i.expires_at }));
    },
    async domains() {
      const r = await db.query<{ id: string; name: string | null; enrollment_mode: string | null; verification_status: string | null }>(
        `select id, name, enrollment_mode, verification_status from ${s}.organization_domains where organization_id = $1 and deleted_at is null order by id`,
        [organizationId],
      );
      return r.rows.map((d) => ({ id: d.id, name: d.name, enrollmentMode: d.enrollment_mode, verificationStatus: d.verification_status }));
    },
    can: (userId, permission) => can(db, options, userId, organizationId, permission),
  };
}
