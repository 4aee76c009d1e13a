/**
 * Reconcile: a full backfill pass that also finds projection rows whose entity Clerk no longer
 * has, and tombstones them through synthetic `*.deleted` events (source 'backfill', so the same
 * apply rules hold and no side effect fires).
 *
 * Absence from an offset-paged listing is not proof (an entity deleted mid-listing shifts the
 * next pages by one), so every candidate is confirmed before it is tombstoned: a 404 from its own
 * endpoint, or for a membership, absence from a fresh listing of its organization. Rows written
 * after the pass began are left alone (they may come from webhooks for entities created since).
 * A pass that would tombstone more than half of a table stops instead: that is a database pointed
 * at another Clerk instance far more often than a real mass deletion.
 */
import type { Queryable } from '../core/db.js';
import { quoteIdentifier } from '../db/identifiers.js';
import { enqueueEvents } from '../inbox/enqueue.js';
import type { ClerkApi, Json } from './clerk-api.js';
import { RESOURCES, RESOURCE_NAMES, type ResourceName } from './resources.js';
import { runBackfill, type BackfillOptions, type BackfillResult } from './run.js';
import { syntheticEvent } from './synthetic.js';

export interface ReconcileOptions extends Omit<BackfillOptions, 'state' | 'restart' | 'onEntities' | 'onOrganizationGone' | 'beforeFinish'> {
  /** List and report what would be tombstoned; store nothing at all. */
  dryRun?: boolean;
  /** Tombstone even when more than `maxDeleteRatio` of a table is missing from Clerk. */
  force?: boolean;
  /** @default 0.5 */
  maxDeleteRatio?: number;
}

export interface ReconcileResult {
  backfill: BackfillResult;
  /** Ids tombstoned (or, in a dry run, that would be), per resource. */
  tombstoned: Partial<Record<ResourceName, string[]>>;
  /** Resources not checked, with the reason (their table is missing, the listing was not part of the run). */
  skipped: Partial<Record<ResourceName, string>>;
}

export class ReconcileRefusedError extends Error {
  override readonly name = 'ReconcileRefusedError';
}

type Candidate = { id: string; raw: Json | null; organization_id?: string | null };

const RECONCILED: ResourceName[] = ['permissions', 'roles', 'users', 'organizations', 'memberships'];

/** Every membership id of an organization, from its own listing; null when the organization is gone. */
async function membershipIds(api: ClerkApi, organizationId: string): Promise<Set<string> | null> {
  const ids = new Set<string>();
  const request = { path: `/organizations/${encodeURIComponent(organizationId)}/memberships` };
  for (let offset = 0; ; ) {
    const page = await api.list('organization_memberships.per_organization', request, offset, 500);
    for (const m of page.data) ids.add(String(m.id));
    offset += page.data.length;
    if (page.data.length < 500 || (page.totalCount !== undefined && offset >= page.totalCount)) return ids;
  }
}

async function tableExists(db: Queryable, schema: string, table: string): Promise<boolean> {
  const r = await db.query<{ ok: boolean }>('select to_regclass($1) is not null as ok', [`${quoteIdentifier(schema)}.${table}`]);
  return r.rows[0]?.ok === true;
}

function deletedData(resource: ResourceName, row: Candidate): Json {
  const object = { users: 'user', organizations: 'organization', memberships: 'organization_membership', roles: 'role', permissions: 'permission' }[resource as string] ?? resource;
  if (resource !== 'memberships') return { object, id: row.id, deleted: true };
  // Clerk's organizationMembership.deleted carries the whole membership; so does ours, minus
  // updated_at, so the tombstone is dated by when reconcile found it gone.
  const { updated_at: _stale, ...rest } = row.raw ?? {};
  return { ...rest, object, id: row.id, ...(row.raw ? {} : { organization: { id: row.organization_id } }) };
}

export async function runReconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const { db, schema, api } = options;
  const now = options.now ?? Date.now;
  const startedAt = new Date(now());
  const seen = new Map<ResourceName, Set<string>>();
  const goneOrganizations = new Set<string>();
  const backfill = await runBackfill({
    ...options,
    store: !options.dryRun,
    onEntities(resource, entities) {
      let set = seen.get(resource);
      if (!set) seen.set(resource, (set = new Set()));
      for (const e of entities) set.add(String(e.id));
    },
    onOrganizationGone: (id) => goneOrganizations.add(id),
  });
  const result: ReconcileResult = { backfill, tombstoned: {}, skipped: {} };
  if (!backfill.complete) return result;

  const listings = new Set<ResourceName>(options.resources ?? RESOURCE_NAMES);
  const organizationListings = new Map<string, Set<string> | null>();
  const membershipsOf = async (organizationId: string): Promise<Set<string> | null> => {
    if (goneOrganizations.has(organizationId)) return null;
    if (!organizationListings.has(organizationId)) {
      const org = await api.getOrganization(organizationId);
      organizationListings.set(organizationId, org ? await membershipIds(api, organizationId) : null);
    }
    return organizationListings.get(organizationId) ?? null;
  };
  const confirmGone = async (resource: ResourceName, row: Candidate): Promise<boolean> => {
    switch (resource) {
      case 'users':
        return (await api.getUser(row.id)) === null;
      case 'organizations':
        return (await api.getOrganization(row.id)) === null;
      case 'roles':
        return (await api.getRole(row.id)) === null;
      case 'permissions':
        return (await api.getPermission(row.id)) === null;
      case 'memberships': {
        if (!row.organization_id) return false;
        const members = await membershipsOf(row.organization_id);
        return members === null || !members.has(row.id);
      }
      default:
        return false;
    }
  };

  for (const resource of RECONCILED) {
    const spec = RESOURCES[resource];
    if (!listings.has(resource)) {
      result.skipped[resource] = 'not listed in this run';
      continue;
    }
    if (!spec.deletedType || !(await tableExists(db, schema, spec.table))) {
      result.skipped[resource] = `table ${schema}.${spec.table} does not exist`;
      continue;
    }
    const columns = resource === 'memberships' ? 'id, raw, organization_id' : 'id, raw';
    const rows = await db.query<Candidate>(
      `select ${columns} from ${quoteIdentifier(schema)}.${spec.table} where deleted_at is null and synced_at < $1`,
      [startedAt],
    );
    const listed = seen.get(resource) ?? new Set<string>();
    const candidates = rows.rows.filter((r) => !listed.has(r.id));
    if (candidates.length === 0) continue;
    const ratio = options.maxDeleteRatio ?? 0.5;
    if (!options.force && candidates.length > 10 && candidates.length > rows.rowCount * ratio) {
      throw new ReconcileRefusedError(
        `${candidates.length} of ${rows.rowCount} rows of ${schema}.${spec.table} are missing from Clerk: is CLERK_SECRET_KEY the key of the instance this database mirrors? Use --force to tombstone them anyway`,
      );
    }
    const gone: Candidate[] = [];
    for (const row of candidates) if (await confirmGone(resource, row)) gone.push(row);
    if (gone.length === 0) continue;
    result.tombstoned[resource] = gone.map((r) => r.id);
    if (options.dryRun) continue;
    const at = now();
    const items = gone.map((row) => syntheticEvent(spec.deletedType!, deletedData(resource, row), at));
    for (let i = 0; i < items.length; i += 1000) await enqueueEvents(db, schema, items.slice(i, i + 1000));
  }
  return result;
}
