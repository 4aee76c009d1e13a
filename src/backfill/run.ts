/**
 * The backfill loop: page through each listing (pages of up to 500), turn every entity into a
 * synthetic inbox event, and store each page together with the listing's new position in one
 * transaction, so a run killed at any point resumes exactly after the last stored page.
 *
 * Memberships, organization invitations and domains are listed for the whole instance; where an
 * instance answers 404 there, they are listed one organization at a time, a few organizations
 * per transaction, the position counting organizations done.
 *
 * Nothing here applies events: the caller does (`beforeFinish`), with the same ordering guard
 * as webhooks; a run is marked complete only after that, so a crash during the apply resumes
 * into the apply.
 */
import type { Db, Queryable } from '../core/db.js';
import { replayEvents } from '../apply/replay.js';
import { enqueueEvents, type InboxItem } from '../inbox/enqueue.js';
import { AbortedError, BudgetExhaustedError } from './budget.js';
import { ClerkApiError, type ClerkApi, type Json, type ListingRequest, type Page } from './clerk-api.js';
import { LISTINGS, RESOURCES, RESOURCE_NAMES, listingsOf, type ListingSpec, type ResourceName } from './resources.js';
import { BackfillState, type ListingState } from './state.js';
import { frozenRowEvents } from './frozen.js';
import { syntheticEvent } from './synthetic.js';

export interface BackfillProgress {
  /** The listing (`users`, `invitations:revoked`). */
  listing: string;
  resource: ResourceName;
  /** Entities (for a listing done per organization: organizations) done so far. */
  done: number;
  total?: number;
  counts: BackfillCounts;
}

export type BackfillCounts = Partial<Record<ResourceName, { listed: number; stored: number }>>;

export interface BackfillOptions {
  db: Db;
  schema: string;
  api: ClerkApi;
  /** @default every resource */
  resources?: readonly ResourceName[];
  /** Where the run's position is kept; without one, in memory (reconcile, dry runs). */
  state?: BackfillState;
  /** Begin a new run even when one is open. */
  restart?: boolean;
  /** Entities per request, at most 500 (Clerk's maximum). @default 500 */
  pageSize?: number;
  /** Organizations listed at once when a listing falls back to one organization at a time. @default 4 */
  concurrency?: number;
  now?: () => number;
  /** Checked between pages; give the same signal to createClerkApi to stop between requests. */
  signal?: AbortSignal;
  onProgress?: (progress: BackfillProgress) => void;
  /** false: list only, store nothing (reconcile's dry run). @default true */
  store?: boolean;
  /** Sees every entity listed (reconcile collects ids with it). */
  onEntities?: (resource: ResourceName, entities: readonly Json[]) => void;
  /** Entities listed and newly stored, as each page commits (metrics). */
  onStored?: (resource: ResourceName, listed: number, stored: number) => void;
  /** An organization vanished between its listing and its members' (per-organization fallback). */
  onOrganizationGone?: (organizationId: string) => void;
  /** Runs once every listing is done, before the run is marked complete (the apply). */
  beforeFinish?: () => Promise<void>;
  /**
   * Applies a page's new events in the transaction that stores them (written `applied`, one row
   * version each). When it throws, the page is stored pending instead, for the apply pass (or a
   * worker) to apply one by one with its retries and dead letters.
   */
  applyPage?: (tx: Queryable, items: readonly InboxItem[]) => Promise<void>;
}

export type StopReason = 'budget' | 'interrupted';

export interface BackfillResult {
  /** False when stopped early; the position is kept and the next run continues. */
  complete: boolean;
  stopped?: StopReason;
  resumed: boolean;
  runId?: string;
  counts: BackfillCounts;
  /** Backend API requests this run made. */
  requests: number;
  /** Listings read one organization at a time because the instance-wide path answered 404. */
  perOrganization: string[];
}

/** The page's apply failed: its transaction rolled back, and the page is stored pending instead. */
class ApplyPageError extends Error {
  constructor(readonly original: unknown) {
    super('applying a backfilled page failed');
  }
}

function dedupe(items: InboxItem[]): InboxItem[] {
  return [...new Map(items.map((i) => [i.id, i])).values()];
}

const ORGANIZATIONS = LISTINGS.find((l) => l.key === 'organizations')!;

export async function runBackfill(options: BackfillOptions): Promise<BackfillResult> {
  const { db, schema, api } = options;
  const now = options.now ?? Date.now;
  const pageSize = Math.min(500, Math.max(1, options.pageSize ?? 500));
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const resources = RESOURCE_NAMES.filter((n) => (options.resources ?? RESOURCE_NAMES).includes(n));
  const listings = listingsOf(resources);
  const requestsBefore = api.budget.used;
  let requestsSaved = requestsBefore;

  const run = options.state
    ? await options.state.begin(resources, listings, { restart: options.restart })
    : { id: undefined, resumed: false, listings: new Map<string, ListingState>() };
  const stateOf = (spec: ListingSpec): ListingState =>
    run.listings.get(spec.key) ?? { listing: spec.key, position: 0, total: null, listed: 0, stored: 0, perOrganization: false, finished: false };

  const counts = (): BackfillCounts => {
    const out: BackfillCounts = {};
    for (const spec of listings) {
      const st = stateOf(spec);
      const c = (out[spec.resource] ??= { listed: 0, stored: 0 });
      c.listed += st.listed;
      c.stored += st.stored;
    }
    return out;
  };

  /**
   * Stores the entities (applying them with `applyPage`) and the listing's next position in one
   * transaction. `after`: the previous page's commit. This transaction does its work alongside it
   * (both of Postgres's cores busy) but saves its position only once that one has committed, and
   * rolls back if it failed, so positions only move forward over stored pages.
   */
  const commit = async (spec: ListingSpec, entities: readonly Json[], next: ListingState, after: Promise<void> = Promise.resolve()): Promise<void> => {
    options.onEntities?.(spec.resource, entities);
    const at = now();
    const items = dedupe(entities.map((e) => syntheticEvent(RESOURCES[spec.resource].eventType, e, at)));
    // An entity already stored unchanged is applied again only when its row is frozen: applied
    // here with the new ones when this transaction applies, queued again otherwise.
    const insert = async (q: Queryable, applied: boolean) => {
      const fresh: InboxItem[] = [];
      for (let i = 0; i < items.length; i += 1000) {
        const chunk = items.slice(i, i + 1000);
        const inserted = await enqueueEvents(q, schema, chunk, { applied });
        const known = chunk.filter((item) => !inserted.has(item.id));
        const frozen = await frozenRowEvents(q, schema, RESOURCES[spec.resource].table, known);
        if (!applied && frozen.length > 0) await replayEvents(q, schema, { ids: frozen.map((item) => item.id), statuses: ['applied', 'stale', 'ignored'] });
        for (const item of chunk) if (inserted.has(item.id)) fresh.push(item);
        fresh.push(...frozen);
      }
      return fresh;
    };
    const store = async (applyNow: boolean): Promise<number> => {
      const used = api.budget.used;
      const stored = await db.transaction(async (tx) => {
        const fresh = await insert(tx, applyNow);
        if (applyNow && fresh.length > 0) {
          try {
            await options.applyPage!(tx, fresh);
          } catch (error) {
            throw new ApplyPageError(error);
          }
        }
        await after;
        await options.state!.advance(tx, run.id!, next, { listed: entities.length, stored: fresh.length, requests: used - requestsSaved });
        return fresh.length;
      });
      requestsSaved = Math.max(requestsSaved, used);
      return stored;
    };
    let stored = 0;
    if (options.store === false) await after;
    else if (options.state && run.id) {
      try {
        stored = await store(options.applyPage !== undefined);
      } catch (error) {
        if (!(error instanceof ApplyPageError)) throw error;
        stored = await store(false);
      }
    } else {
      await after;
      stored = (await insert(db, false)).length;
    }
    const before = stateOf(spec);
    const saved = { ...next, listed: before.listed + entities.length, stored: before.stored + stored };
    run.listings.set(spec.key, saved);
    options.onStored?.(spec.resource, entities.length, stored);
    options.onProgress?.({ listing: spec.key, resource: spec.resource, done: saved.position, ...(saved.total === null ? {} : { total: saved.total }), counts: counts() });
  };

  const checkAbort = () => {
    if (options.signal?.aborted) throw new AbortedError();
  };

  const listInstanceWide = async (spec: ListingSpec): Promise<'done' | 'not_found'> => {
    const start = stateOf(spec);
    let position = start.position;
    let total = start.total;
    if (spec.countPath && total === null) total = await api.count(`${spec.operation.replace('.list', '')}.count`, spec.countPath);
    const fetchPage = (offset: number) => api.list(spec.operation, spec.request, offset, pageSize);
    let next: Promise<Page> | undefined;
    // The previous page's commit, still running while this page is fetched and stored.
    let previous: Promise<void> = Promise.resolve();
    let current: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        checkAbort();
        let page: Page;
        try {
          page = await (next ?? fetchPage(position));
        } catch (error) {
          if (error instanceof ClerkApiError && error.status === 404 && spec.perOrganization && position === 0) return 'not_found';
          throw error;
        }
        next = undefined;
        total = page.totalCount ?? total;
        position += page.data.length;
        const finished = page.data.length < pageSize || (total !== null && position >= total);
        // The next page is on its way while this one is stored.
        if (!finished) {
          next = fetchPage(position);
          next.catch(() => {}); // a failure is seen when it is awaited, or the next run lists the page again
        }
        current = commit(spec, page.data, { ...start, position, total, finished }, previous);
        current.catch(() => {}); // awaited below or by the next page's commit
        await previous; // at most two pages in flight
        previous = current;
        if (finished) {
          await current;
          return 'done';
        }
      }
    } finally {
      // A page being stored when a stop or failure came is waited for; the next run lists any page not counted.
      await Promise.allSettled([previous, current]);
    }
  };

  const childrenOf = async (spec: ListingSpec, organizationId: string): Promise<Json[] | null> => {
    const request: ListingRequest = { ...spec.perOrganization!, path: spec.perOrganization!.path.replace('{id}', encodeURIComponent(organizationId)) };
    const all: Json[] = [];
    try {
      for (let offset = 0; ; ) {
        const page = await api.list(`${spec.operation}.per_organization`, request, offset, pageSize);
        all.push(...page.data);
        offset += page.data.length;
        if (page.data.length < pageSize || (page.totalCount !== undefined && offset >= page.totalCount)) return all;
      }
    } catch (error) {
      if (error instanceof ClerkApiError && error.status === 404) {
        options.onOrganizationGone?.(organizationId);
        return null;
      }
      throw error;
    }
  };

  const listPerOrganization = async (spec: ListingSpec): Promise<void> => {
    let st = stateOf(spec);
    if (!st.perOrganization) st = { ...st, perOrganization: true, position: 0, total: null };
    for (;;) {
      checkAbort();
      const organizations = await api.list(ORGANIZATIONS.operation, ORGANIZATIONS.request, st.position, pageSize);
      const total = organizations.totalCount ?? st.total;
      const ids = organizations.data.map((o) => String(o.id));
      if (ids.length === 0) {
        await commit(spec, [], { ...st, total, finished: true });
        return;
      }
      const pageStart = st.position;
      const lastPage = ids.length < pageSize || (total !== null && pageStart + ids.length >= total);
      for (let i = 0; i < ids.length; i += concurrency) {
        checkAbort();
        const chunk = ids.slice(i, i + concurrency);
        const found = await Promise.all(chunk.map((id) => childrenOf(spec, id)));
        const position = pageStart + i + chunk.length;
        const finished = lastPage && i + chunk.length >= ids.length;
        await commit(spec, found.flatMap((f) => f ?? []), { ...st, position, total, finished });
        st = stateOf(spec);
        if (finished) return;
      }
    }
  };

  const perOrganization: string[] = [];
  try {
    for (const spec of listings) {
      const st = stateOf(spec);
      if (st.finished) continue;
      if (!st.perOrganization && (await listInstanceWide(spec)) === 'done') continue;
      perOrganization.push(spec.key);
      await listPerOrganization(spec);
    }
    checkAbort();
    await options.beforeFinish?.();
  } catch (error) {
    const stopped: StopReason | undefined = error instanceof BudgetExhaustedError ? 'budget' : error instanceof AbortedError ? 'interrupted' : undefined;
    if (options.state && run.id) await options.state.release(run.id).catch(() => {});
    if (!stopped) throw error;
    return { complete: false, stopped, resumed: run.resumed, runId: run.id, counts: counts(), requests: api.budget.used - requestsBefore, perOrganization };
  }
  if (options.state && run.id) await options.state.finish(run.id);
  return { complete: true, resumed: run.resumed, runId: run.id, counts: counts(), requests: api.budget.used - requestsBefore, perOrganization };
}
