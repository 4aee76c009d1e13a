/**
 * The backfill loop: page through each listing (oldest first, pages of up to 500), turn every
 * entity into a synthetic inbox event, store a page per statement, then move the cursor. For each
 * page of organizations, their memberships and invitations are listed a few organizations at a
 * time (the request budget spaces them) and stored together.
 *
 * Nothing here applies events: the worker (or the caller's drain) does, with the same ordering
 * guard as webhooks.
 */
import type { Queryable } from '../core/db.js';
import { enqueueEvents, type InboxItem } from '../inbox/enqueue.js';
import { AbortedError, BudgetExhaustedError } from './budget.js';
import { ClerkApiError, type ClerkApi, type Json } from './clerk-api.js';
import { memoryCursorStore, type BackfillCursor, type CursorStore } from './cursor.js';
import { LISTINGS, RESOURCES, listAll, listTopLevel, type ListingName, type ResourceName } from './resources.js';
import { syntheticEvent } from './synthetic.js';

export interface BackfillProgress {
  resource: ListingName;
  /** Entities of this listing done (for organizations: including their memberships and invitations). */
  done: number;
  total?: number;
  counts: BackfillCursor['counts'];
}

export interface BackfillOptions {
  db: Queryable;
  schema: string;
  api: ClerkApi;
  /** @default every listing */
  resources?: readonly ListingName[];
  /** @default a memory store: no resume across processes */
  cursor?: CursorStore;
  /** Entities per request, at most 500 (Clerk's maximum). @default 500 */
  pageSize?: number;
  /** Organizations whose memberships and invitations are listed at once. @default 4 */
  concurrency?: number;
  now?: () => number;
  /** Checked between pages; give the same signal to createClerkApi to stop between requests. */
  signal?: AbortSignal;
  onProgress?: (progress: BackfillProgress) => void;
  /** false: list only, store nothing (reconcile's dry run). @default true */
  store?: boolean;
  /** Sees every entity listed (reconcile collects ids with it). */
  onEntities?: (resource: ResourceName, entities: readonly Json[], parentId?: string) => void;
  /** Entities listed and newly stored, as each batch commits (metrics). */
  onStored?: (resource: ResourceName, listed: number, stored: number) => void;
  /** An organization vanished between its listing and its memberships'. */
  onOrganizationGone?: (organizationId: string) => void;
}

export type StopReason = 'budget' | 'interrupted';

export interface BackfillResult {
  /** False when stopped early; the cursor is kept and the next run continues. */
  complete: boolean;
  stopped?: StopReason;
  resumed: boolean;
  counts: BackfillCursor['counts'];
  /** Backend API requests this run made. */
  requests: number;
}

function freshCursor(resources: ListingName[], now: number): BackfillCursor {
  const at = new Date(now).toISOString();
  return { version: 1, resources, step: 0, offset: 0, counts: {}, startedAt: at, updatedAt: at };
}

function dedupe(items: InboxItem[]): InboxItem[] {
  return [...new Map(items.map((i) => [i.id, i])).values()];
}

export async function runBackfill(options: BackfillOptions): Promise<BackfillResult> {
  const { db, schema, api } = options;
  const now = options.now ?? Date.now;
  const store = options.cursor ?? memoryCursorStore();
  const pageSize = Math.min(500, Math.max(1, options.pageSize ?? 500));
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const resources = LISTINGS.filter((n) => (options.resources ?? LISTINGS).includes(n));
  const requestsBefore = api.budget.used;

  const saved = await store.load();
  const resumed = saved !== undefined && JSON.stringify(saved.resources) === JSON.stringify(resources);
  const cursor = resumed ? saved : freshCursor(resources, now());

  const count = (resource: ResourceName, listed: number, stored: number) => {
    const c = (cursor.counts[resource] ??= { listed: 0, stored: 0 });
    c.listed += listed;
    c.stored += stored;
    options.onStored?.(resource, listed, stored);
  };
  const save = async () => {
    cursor.updatedAt = new Date(now()).toISOString();
    await store.save(cursor);
  };
  const store_ = async (resource: ResourceName, entities: readonly Json[], parentId?: string) => {
    options.onEntities?.(resource, entities, parentId);
    const at = now();
    const items = dedupe(entities.map((e) => syntheticEvent(RESOURCES[resource].eventType, e, at)));
    const inserted = options.store === false ? new Set() : await enqueueEvents(db, schema, items);
    count(resource, entities.length, inserted.size);
  };

  const organizationChildren = async (organizationId: string): Promise<{ memberships: Json[]; invitations: Json[] } | null> => {
    try {
      const memberships = await listAll((o, l) => api.listMemberships(organizationId, o, l), pageSize);
      const invitations = await listAll((o, l) => api.listOrganizationInvitations(organizationId, o, l), pageSize);
      return { memberships, invitations };
    } catch (error) {
      if (error instanceof ClerkApiError && error.status === 404) {
        options.onOrganizationGone?.(organizationId);
        return null;
      }
      throw error;
    }
  };

  try {
    for (; cursor.step < resources.length; cursor.step++, cursor.offset = 0, delete cursor.afterOrganization) {
      const resource = resources[cursor.step]!;
      let total: number | undefined;
      for (;;) {
        if (options.signal?.aborted) throw new AbortedError();
        const page = await listTopLevel(api, resource, cursor.offset, pageSize);
        total = page.totalCount ?? total;
        await store_(resource, page.data);
        if (resource === 'organizations') {
          const ids = page.data.map((o) => String(o.id));
          // Resuming inside this page: skip the organizations already done, unless the marker
          // vanished from the page (an organization was deleted), then redo them all (idempotent).
          const skip = cursor.afterOrganization ? ids.indexOf(cursor.afterOrganization) + 1 : 0;
          for (let i = skip; i < ids.length; i += concurrency) {
            const chunk = ids.slice(i, i + concurrency);
            const found = await Promise.all(chunk.map(organizationChildren));
            const memberships: Json[] = [];
            const invitations: Json[] = [];
            chunk.forEach((id, k) => {
              const children = found[k];
              if (!children) return;
              options.onEntities?.('memberships', children.memberships, id);
              options.onEntities?.('organizationInvitations', children.invitations, id);
              memberships.push(...children.memberships);
              invitations.push(...children.invitations);
            });
            await storeChildren('memberships', memberships);
            await storeChildren('organizationInvitations', invitations);
            cursor.afterOrganization = chunk.at(-1);
            await save();
            options.onProgress?.({ resource, done: cursor.offset + i + chunk.length, total, counts: cursor.counts });
          }
        }
        cursor.offset += page.data.length;
        delete cursor.afterOrganization;
        await save();
        options.onProgress?.({ resource, done: cursor.offset, total, counts: cursor.counts });
        if (page.data.length < pageSize || page.data.length === 0 || (total !== undefined && cursor.offset >= total)) break;
      }
    }
  } catch (error) {
    const stopped: StopReason | undefined = error instanceof BudgetExhaustedError ? 'budget' : error instanceof AbortedError ? 'interrupted' : undefined;
    if (!stopped) throw error;
    return { complete: false, stopped, resumed, counts: cursor.counts, requests: api.budget.used - requestsBefore };
  }
  await store.clear();
  return { complete: true, resumed, counts: cursor.counts, requests: api.budget.used - requestsBefore };

  async function storeChildren(resource: ResourceName, entities: Json[]) {
    if (entities.length === 0) return;
    // onEntities already saw them per organization; store without reporting twice.
    const at = now();
    const items = dedupe(entities.map((e) => syntheticEvent(RESOURCES[resource].eventType, e, at)));
    for (let i = 0; i < items.length; i += 1000) {
      const inserted = options.store === false ? new Set() : await enqueueEvents(db, schema, items.slice(i, i + 1000));
      count(resource, Math.min(1000, items.length - i), inserted.size);
    }
  }
}
