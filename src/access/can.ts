/** Permission checks for apps, over the `user_permissions` view (through the SQL function can()). */
import type { Queryable } from '../core/db.js';
import { schemaOf, type AccessOptions } from './options.js';

/**
 * Does the user hold the permission in the organization, through a live membership? A
 * membership's permissions are its role's current ones when the role is synced, none when the
 * role is deleted, its own snapshot when the role is unknown (docs/projections.md). With
 * `metadataGrants`, public_metadata grants count too.
 * @example
 * if (!(await can(db, { schema: 'clerk' }, userId, orgId, 'org:posts:write'))) return forbidden();
 */
export async function can(db: Queryable, options: AccessOptions, userId: string, organizationId: string, permission: string): Promise<boolean> {
  const result = await db.query<{ ok: boolean }>(`select ${schemaOf(options)}.can($1, $2, $3, $4) as ok`, [userId, organizationId, permission, options.metadataGrants === true]);
  return result.rows[0]?.ok === true;
}

export interface OrganizationAccess {
  organizationId: string;
  organizationName: string | null;
  organizationSlug: string | null;
  membershipId: string;
  role: string | null;
  /** Sorted; empty for a user marked inactive (public_metadata.isActive = false). */
  permissions: string[];
}

/** The organizations a user is a live member of, with their role and effective permissions. */
export async function accessFor(db: Queryable, options: AccessOptions, userId: string): Promise<OrganizationAccess[]> {
  const s = schemaOf(options);
  const result = await db.query<{ organization_id: string; name: string | null; slug: string | null; id: string; role: string | null; permissions: string[] | null }>(
    `select m.organization_id, o.name, o.slug, m.id, m.role,
            array(select p.permission from ${s}.user_permissions p
                  where p.user_id = m.user_id and p.organization_id = m.organization_id order by p.permission) as permissions
       from ${s}.active_organization_memberships m
       left join ${s}.organizations o on o.id = m.organization_id
      where m.user_id = $1
      order by m.organization_id, m.id`,
    [userId],
  );
  return result.rows.map((r) => ({
    organizationId: r.organization_id,
    organizationName: r.name,
    organizationSlug: r.slug,
    membershipId: r.id,
    role: r.role,
    permissions: r.permissions ?? [],
  }));
}
