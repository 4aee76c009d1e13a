-- Authorization you can trust (decision 0007). A membership's permissions follow its role: the
-- role's current permissions when a live role with that key is synced, none when the role is
-- known but deleted, the membership's own snapshot only when the role is unknown (system roles
-- Clerk sends no role.* events for, or a role not synced yet). A role.updated therefore revokes
-- at once, with no membership event needed. A permission known only as deleted is dropped.
-- Set-returning and plain SQL so the planner inlines it into the views.
CREATE FUNCTION "clerk"."membership_permissions"(p_role text, p_own text[]) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
  SELECT DISTINCT g.permission
  FROM (
    SELECT unnest(r.permissions) AS permission FROM "clerk"."roles" r WHERE r.key = p_role AND r.deleted_at IS NULL
    UNION ALL
    SELECT unnest(p_own) WHERE NOT EXISTS (SELECT 1 FROM "clerk"."roles" k WHERE k.key = p_role)
  ) g
  WHERE g.permission IS NOT NULL
    AND (NOT EXISTS (SELECT 1 FROM "clerk"."permissions" d WHERE d.key = g.permission AND d.deleted_at IS NOT NULL)
         OR EXISTS (SELECT 1 FROM "clerk"."permissions" l WHERE l.key = g.permission AND l.deleted_at IS NULL))
$$;
--> statement-breakpoint
CREATE OR REPLACE VIEW "clerk"."user_permissions" AS
SELECT DISTINCT m.user_id, m.organization_id, p.permission
FROM "clerk"."active_organization_memberships" m
CROSS JOIN LATERAL "clerk"."membership_permissions"(m.role, m.permissions) AS p(permission)
WHERE NOT EXISTS (SELECT 1 FROM "clerk"."users" u WHERE u.id = m.user_id AND NOT u.is_active);
--> statement-breakpoint
-- A deleted user is not active, whatever its metadata said: enforced on every write (apply,
-- backfill, reproject), so a naive `where is_active` never lists departed users.
CREATE FUNCTION "clerk"."users_deleted_inactive"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.deleted_at IS NOT NULL THEN
    NEW.is_active := false;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "users_deleted_inactive" BEFORE INSERT OR UPDATE ON "clerk"."users"
FOR EACH ROW EXECUTE FUNCTION "clerk"."users_deleted_inactive"();
--> statement-breakpoint
UPDATE "clerk"."users" SET is_active = false WHERE deleted_at IS NOT NULL AND is_active;
--> statement-breakpoint
-- Opt-in grants from users.public_metadata (role, permissions, organizationId: the JWT-claims
-- model of apps that put them there), for the metadata's organization only, and only for a live,
-- active user. The metadata role grants through the same rule as a membership's role.
CREATE VIEW "clerk"."user_metadata_permissions" AS
SELECT DISTINCT u.id AS user_id, u.organization_id, p.permission
FROM "clerk"."users" u
CROSS JOIN LATERAL "clerk"."membership_permissions"(u.role, u.permissions) AS p(permission)
WHERE u.deleted_at IS NULL AND u.is_active AND u.organization_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM "clerk"."organizations" o WHERE o.id = u.organization_id AND o.deleted_at IS NOT NULL);
--> statement-breakpoint
CREATE FUNCTION "clerk"."can"(p_user_id text, p_organization_id text, p_permission text, p_metadata_grants boolean) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM "clerk"."user_permissions"
    WHERE user_id = p_user_id AND organization_id = p_organization_id AND permission = p_permission
  ) OR (p_metadata_grants IS TRUE AND EXISTS (
    SELECT 1 FROM "clerk"."user_metadata_permissions"
    WHERE user_id = p_user_id AND organization_id = p_organization_id AND permission = p_permission
  ))
$$;
--> statement-breakpoint
-- Row-level security. The acting user comes from the transaction-local setting clerk.user_id
-- (withClerkUser), else the sub claim of request.jwt.claims (PostgREST, Neon). A malformed value
-- reads as no user: never an error, never a partial match.
CREATE FUNCTION "clerk"."current_user_id"() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v text := nullif(current_setting('clerk.user_id', true), '');
  claims text;
BEGIN
  IF v IS NULL THEN
    claims := nullif(current_setting('request.jwt.claims', true), '');
    IF claims IS NULL THEN
      RETURN NULL;
    END IF;
    BEGIN
      v := CASE WHEN jsonb_typeof(claims::jsonb -> 'sub') = 'string' THEN claims::jsonb ->> 'sub' END;
    EXCEPTION WHEN others THEN
      RETURN NULL;
    END;
  END IF;
  IF v IS NULL OR v !~ '^[A-Za-z0-9_-]{1,128}$' THEN
    RETURN NULL;
  END IF;
  RETURN v;
END
$$;
--> statement-breakpoint
-- The organizations the acting user is an active member of (an active membership of a user not
-- marked inactive), as one array: a policy written `organization_id = any((select ...))` evaluates
-- it once per statement and compares each row against it. SECURITY DEFINER so the app role needs
-- no grant on the clerk tables; the search path is pinned.
CREATE FUNCTION "clerk"."member_organizations"() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(DISTINCT m.organization_id), '{}'::text[])
  FROM "clerk"."active_organization_memberships" m
  WHERE m.user_id = "clerk"."current_user_id"()
    AND NOT EXISTS (SELECT 1 FROM "clerk"."users" u WHERE u.id = m.user_id AND NOT u.is_active)
$$;
--> statement-breakpoint
-- The organizations where the acting user holds the permission (the rule of can()).
CREATE FUNCTION "clerk"."permitted_organizations"(p_permission text) RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(DISTINCT p.organization_id), '{}'::text[])
  FROM "clerk"."user_permissions" p
  WHERE p.user_id = "clerk"."current_user_id"() AND p.permission = p_permission
$$;
--> statement-breakpoint
CREATE FUNCTION "clerk"."is_member"(p_organization_id text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(p_organization_id = ANY ("clerk"."member_organizations"()), false)
$$;
--> statement-breakpoint
CREATE FUNCTION "clerk"."has_permission"(p_organization_id text, p_permission text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce("clerk"."can"("clerk"."current_user_id"(), p_organization_id, p_permission), false)
$$;
