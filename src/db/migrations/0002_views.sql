-- Read-side views and can(): derived facts are computed from rows at read time, so they converge
-- with the tables (DESIGN.md). A membership whose user or organization row has not arrived yet
-- counts as active (the sign-up race: the membership often lands first); only a tombstoned user
-- or organization makes it inactive.
CREATE VIEW "clerk"."active_organization_memberships" AS
SELECT m.id, m.organization_id, m.user_id, m.role, m.permissions
FROM "clerk"."organization_memberships" m
WHERE m.deleted_at IS NULL
  AND m.organization_id IS NOT NULL
  AND m.user_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM "clerk"."users" u WHERE u.id = m.user_id AND u.deleted_at IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM "clerk"."organizations" o WHERE o.id = m.organization_id AND o.deleted_at IS NOT NULL);
--> statement-breakpoint
-- The membership's own permissions plus those of its role (joined by role key, live roles only),
-- for users not marked inactive (public_metadata.isActive = false); a user row not yet synced
-- counts as active, as above.
CREATE VIEW "clerk"."user_permissions" AS
SELECT DISTINCT m.user_id, m.organization_id, p.permission
FROM "clerk"."active_organization_memberships" m
CROSS JOIN LATERAL (
  SELECT unnest(m.permissions) AS permission
  UNION
  SELECT unnest(r.permissions) FROM "clerk"."roles" r WHERE r.key = m.role AND r.deleted_at IS NULL
) p
WHERE NOT EXISTS (SELECT 1 FROM "clerk"."users" u WHERE u.id = m.user_id AND NOT u.is_active);
--> statement-breakpoint
-- "Last seen": the newest activity over the user's sessions.
CREATE VIEW "clerk"."user_last_seen" AS
SELECT s.user_id, max(s.last_active_at) AS last_seen_at
FROM "clerk"."sessions" s
WHERE s.user_id IS NOT NULL
GROUP BY s.user_id;
--> statement-breakpoint
CREATE FUNCTION "clerk"."can"(p_user_id text, p_organization_id text, p_permission text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM "clerk"."user_permissions"
    WHERE user_id = p_user_id AND organization_id = p_organization_id AND permission = p_permission
  )
$$;
