/**
 * applyEvent: one stored event → its projection row, inside the caller's transaction. The
 * ordering guard and tombstones live in the SQL (projection.ts), so the outcome does not depend
 * on the order or number of deliveries; hooks run last, in the same transaction.
 */
import type { Queryable } from '../core/db.js';
import { read, type Data, type EventFacts } from './projection.js';
import type { Route } from './registry.js';
import { defaultRegistry } from './entities/index.js';
import { lockUserForScrub, scrubIfUserErased, scrubUser } from './scrub.js';
import { PayloadError, type ApplyContext, type ApplyStatus, type StoredEvent } from './types.js';
import { orderingKey } from './version.js';

export async function applyEvent(tx: Queryable, event: StoredEvent, ctx: ApplyContext): Promise<ApplyStatus> {
  const registry = ctx.registry ?? defaultRegistry;
  const route = registry.route(event.type);
  const status = route ? await project(tx, event, route, ctx) : 'ignored';
  if (ctx.hooks) await ctx.hooks.run(event, tx, { status, schema: ctx.schema });
  return status;
}

async function project(tx: Queryable, event: StoredEvent, { projection, action }: Route, ctx: ApplyContext): Promise<ApplyStatus> {
  const data = read.obj(event.payload?.data);
  if (!data) throw new PayloadError(event.type, 'data is not an object');
  const id = read.str(data.id);
  if (!id) throw new PayloadError(event.type, 'data.id is missing');
  const facts: EventFacts = { type: event.type, key: orderingKey(event) };
  const scrub = ctx.deleteMode === 'scrub';
  const erasesUser = scrub && action !== 'upsert' && projection.scrubbable;
  const owner = scrub ? projection.ownerOf(data, facts) : null;
  // Taken before any row lock, in the same order by every apply, so scrubbing cannot deadlock.
  if (erasesUser) await lockUserForScrub(tx, ctx.schema, id, 'exclusive');
  else if (owner) await lockUserForScrub(tx, ctx.schema, owner, 'shared');

  // A bare DeletedObject ({ id, object, deleted: true }) only leaves the tombstone, even where
  // the projection expects the whole object.
  const object: Data | null =
    action === 'upsert' ? projection.parse(event.type, data) : action === 'delete-with-data' && data.deleted !== true ? tryParse(projection.parse, event.type, data) : null;
  let changed = object ? await projection.upsert(tx, ctx.schema, id, object, facts) : false;

  if (action !== 'upsert') {
    // deleted_at is the delete's version, except that a delete carrying an unbumped updated_at
    // (organizationMembership.deleted) would date the deletion to the last update: the envelope
    // time, when later, says when the deletion happened.
    const deletedAt = Math.max(facts.key.version, facts.key.eventTs);
    const tombstoned = await projection.tombstone(tx, ctx.schema, id, deletedAt, scrub);
    if (tombstoned && erasesUser) await scrubUser(tx, ctx.schema, id, (ctx.registry ?? defaultRegistry).projections);
    changed = tombstoned || changed;
  }
  if (owner) await scrubIfUserErased(tx, ctx.schema, owner, projection, id, event.id);
  return changed ? 'applied' : 'stale';
}

function tryParse(parse: (type: string, data: Data) => Data, type: string, data: Data): Data | null {
  try {
    return parse(type, data);
  } catch (error) {
    if (error instanceof PayloadError) return null;
    throw error;
  }
}
