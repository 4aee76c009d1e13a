/**
 * Stored events → projection rows, inside the caller's transaction. The ordering guard and
 * tombstones live in the SQL (projection.ts), so the outcome does not depend on the order or
 * number of deliveries; hooks run last, in the same transaction.
 *
 * applyEvents writes a batch with one statement per table (and a few more around deletes),
 * rather than one per event: on a 2-core machine that is the difference between about 7,000 and
 * far more events/s (bench/apply.ts). Where several events of a batch are about one row, only the
 * newest can win, so the others are `stale` exactly as if they had come one by one after it.
 * Scrub mode keeps the one-event-at-a-time path: its user-level locks and erasure are per event.
 */
import type { Queryable } from '../core/db.js';
import { read, type Data, type EventFacts, type Projection, type TombstoneRow, type UpsertRow } from './projection.js';
import type { ProjectionRegistry, Route } from './registry.js';
import { defaultRegistry } from './entities/index.js';
import { lockUserForScrub, scrubIfUserErased, scrubUser } from './scrub.js';
import { PayloadError, type ApplyContext, type ApplyStatus, type StoredEvent } from './types.js';
import { compareKeys, orderingKey } from './version.js';

/** What one event asks of its projection, read and validated before any SQL runs. */
interface Plan {
  event: StoredEvent;
  route: Route;
  id: string;
  facts: EventFacts;
  /** The object to upsert, when the event carries one. */
  object: Data | null;
  /** The tombstone time, for deletes. */
  deletedAt: number | null;
}

export async function applyEvent(tx: Queryable, event: StoredEvent, ctx: ApplyContext): Promise<ApplyStatus> {
  return (await applyEvents(tx, [event], ctx))[0]!;
}

/**
 * Applies the events and returns each one's status, in the order given. A payload that does not
 * fit its type throws a PayloadError before anything is written; so does any database error, and
 * then the caller's transaction is to be rolled back.
 */
export async function applyEvents(tx: Queryable, events: readonly StoredEvent[], ctx: ApplyContext): Promise<ApplyStatus[]> {
  const registry = ctx.registry ?? defaultRegistry;
  const plans = events.map((event) => {
    const route = registry.route(event.type);
    return route ? plan(event, route) : null;
  });
  for (const p of plans) {
    if (!p || p.facts.key.clampedFrom === undefined) continue;
    // Ids and times only: the payload may hold personal data.
    ctx.logger?.warn(
      { svixId: p.event.id, eventType: p.event.type, entityId: p.id, updatedAt: p.facts.key.clampedFrom, version: p.facts.key.version },
      'updated_at is beyond the event timestamp plus the tolerance: the event competes with the bounded version',
    );
  }
  const statuses: ApplyStatus[] = plans.map((p) => (p ? 'stale' : 'ignored'));
  // Every apply touches tables in name order and rows in id order, so concurrent transactions wait for one another rather than deadlock.
  const order = plans.map((p, i) => ({ p, i })).filter((x): x is { p: Plan; i: number } => x.p !== null).sort((a, b) => byTableIdKey(a.p, b.p));
  if (ctx.deleteMode === 'scrub') {
    for (const { p, i } of order) statuses[i] = await projectWithScrub(tx, p, registry, ctx.schema);
  } else {
    const changed = new Set<string>();
    const byTable = new Map<Projection, Plan[]>();
    for (const { p } of order) {
      const list = byTable.get(p.route.projection);
      if (list) list.push(p);
      else byTable.set(p.route.projection, [p]);
    }
    for (const [projection, tablePlans] of byTable) for (const id of await writeTable(tx, ctx.schema, projection, tablePlans)) changed.add(id);
    for (const { p, i } of order) if (changed.has(p.event.id)) statuses[i] = 'applied';
  }
  if (ctx.hooks && ctx.hooks.size > 0) {
    const hookOrder = [...order, ...plans.flatMap((p, i) => (p ? [] : [{ p, i }]))];
    for (const { i } of hookOrder) await ctx.hooks.run(events[i]!, tx, { status: statuses[i]!, schema: ctx.schema });
  }
  return statuses;
}

function plan(event: StoredEvent, route: Route): Plan {
  const data = read.obj(event.payload?.data);
  if (!data) throw new PayloadError(event.type, 'data is not an object');
  const id = read.str(data.id);
  if (!id) throw new PayloadError(event.type, 'data.id is missing');
  const facts: EventFacts = { type: event.type, key: orderingKey(event) };
  const { projection, action } = route;
  // A bare DeletedObject ({ id, object, deleted: true }) only leaves the tombstone, even where
  // the projection expects the whole object.
  const object =
    action === 'upsert' ? projection.parse(event.type, data) : action === 'delete-with-data' && data.deleted !== true ? tryParse(projection, event.type, data) : null;
  // deleted_at is the delete's version, except that a delete carrying an unbumped updated_at
  // (organizationMembership.deleted) would date the deletion to the last update: the envelope
  // time, when later, says when the deletion happened.
  const deletedAt = action === 'upsert' ? null : Math.max(facts.key.version, facts.key.eventTs);
  return { event, route, id, facts, object, deletedAt };
}

/**
 * One table's share of a batch: upserts and tombstones in as few statements as keep the row locks
 * in id order. A tombstone-only row must not be locked before a greater id's upsert, so a run of
 * such rows closes the current group. Returns the ids of the events that changed a row.
 */
async function writeTable(tx: Queryable, schema: string, projection: Projection, plans: readonly Plan[]): Promise<string[]> {
  const changed: string[] = [];
  let upserts: UpsertRow[] = [];
  let tombstones: TombstoneRow[] = [];
  let tombstoneOnly = false;
  const flush = async () => {
    if (upserts.length > 0) changed.push(...(await projection.upsert(tx, schema, upserts)));
    if (tombstones.length > 0) changed.push(...(await projection.tombstone(tx, schema, tombstones, false)));
    upserts = [];
    tombstones = [];
    tombstoneOnly = false;
  };
  for (let start = 0; start < plans.length; ) {
    let end = start;
    while (end < plans.length && plans[end]!.id === plans[start]!.id) end++;
    const rowPlans = plans.slice(start, end);
    const rowUpserts = rowPlans.filter((p) => p.object !== null);
    if (rowUpserts.length > 0 && tombstoneOnly) await flush();
    for (const p of rowUpserts) upserts.push({ id: p.id, data: p.object!, facts: p.facts });
    for (const p of rowPlans) if (p.deletedAt !== null) tombstones.push({ id: p.id, deletedAt: p.deletedAt, eventId: p.event.id });
    if (rowUpserts.length === 0) tombstoneOnly = true;
    start = end;
  }
  await flush();
  return changed;
}

async function projectWithScrub(tx: Queryable, p: Plan, registry: ProjectionRegistry, schema: string): Promise<ApplyStatus> {
  const { projection, action } = p.route;
  const data = p.event.payload.data;
  const erasesUser = action !== 'upsert' && projection.scrubbable;
  const owner = projection.ownerOf(data, p.facts);
  // Taken before any row lock, in the same order by every apply, so scrubbing cannot deadlock.
  if (erasesUser) await lockUserForScrub(tx, schema, p.id, 'exclusive');
  else if (owner) await lockUserForScrub(tx, schema, owner, 'shared');
  let changed = p.object ? (await projection.upsert(tx, schema, [{ id: p.id, data: p.object, facts: p.facts }])).size > 0 : false;
  if (p.deletedAt !== null) {
    const tombstoned = (await projection.tombstone(tx, schema, [{ id: p.id, deletedAt: p.deletedAt, eventId: p.event.id }], true)).size > 0;
    if (tombstoned && erasesUser) await scrubUser(tx, schema, p.id, registry.projections);
    changed = tombstoned || changed;
  }
  if (owner) await scrubIfUserErased(tx, schema, owner, projection, p.id, p.event.id);
  return changed ? 'applied' : 'stale';
}

function byTableIdKey(a: Plan, b: Plan): number {
  const ta = a.route.projection.table;
  const tb = b.route.projection.table;
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return compareKeys(a.facts.key, b.facts.key);
}

function tryParse(projection: Projection, type: string, data: Data): Data | null {
  try {
    return projection.parse(type, data);
  } catch (error) {
    if (error instanceof PayloadError) return null;
    throw error;
  }
}
