/**
 * The read-side views (created by the custom migration `views`, with the SQL function can()),
 * declared `.existing()` so drizzle-kit leaves them alone, for typed queries in apps.
 * This file sits in a subfolder on purpose: drizzle.config.ts globs `schema/*.ts` and drizzle-kit
 * rejects a view it finds twice (here and through index.ts), while it de-duplicates tables.
 */
import { text, timestamp } from 'drizzle-orm/pg-core';
import { clerk } from '../clerk-schema.js';

/** Memberships that are live: the membership, its user and its organization carry no tombstone. */
export const activeOrganizationMemberships = clerk
  .view('active_organization_memberships', {
    id: text('id').notNull(),
    organizationId: text('organization_id').notNull(),
    userId: text('user_id').notNull(),
    role: text('role'),
    permissions: text('permissions').array().notNull(),
  })
  .existing();

/**
 * One row per permission an active user holds in an organization through a live membership: its
 * role's current permissions when the role is synced, none when it is deleted, the membership's
 * own list when the role is unknown.
 */
export const userPermissions = clerk
  .view('user_permissions', {
    userId: text('user_id').notNull(),
    organizationId: text('organization_id').notNull(),
    permission: text('permission').notNull(),
  })
  .existing();

/** Opt-in grants from users.public_metadata (role, permissions, organizationId), by the same role rule. */
export const userMetadataPermissions = clerk
  .view('user_metadata_permissions', {
    userId: text('user_id').notNull(),
    organizationId: text('organization_id').notNull(),
    permission: text('permission').notNull(),
  })
  .existing();

/** A user's last seen time: their newest session activity. */
export const userLastSeen = clerk
  .view('user_last_seen', {
    userId: text('user_id').notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }),
  })
  .existing();
