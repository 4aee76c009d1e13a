/**
 * The projection stage: stored inbox events → rows of the `clerk` schema, converging whatever
 * the order and number of deliveries. Imports core and db (schema, identifiers) only; the worker
 * (apply/) and backfill call applyEvent inside their own transactions.
 */
import { defaultRegistry } from './entities/index.js';

export { applyEvent, applyEvents } from './apply.js';
export { Hooks } from './hooks.js';
export { markEvent } from './mark.js';
export { ProjectionRegistry, type Route } from './registry.js';
export { defineProjection, type Projection, type ProjectionSpec, type EventAction, type UpsertRow, type TombstoneRow } from './projection.js';
export { PROJECTIONS, defaultRegistry } from './entities/index.js';
export { PayloadError, type ApplyContext, type ApplyStatus, type Hook, type HookContext, type StoredEvent } from './types.js';
export { orderingKey, compareKeys, toMillis, FUTURE_TOLERANCE_MS, type OrderingKey } from './version.js';

/** Every event type clerk-sync projects. */
export const EVENT_TYPES: readonly string[] = Object.freeze(defaultRegistry.types);

export function isKnownEventType(type: string): boolean {
  return defaultRegistry.route(type) !== undefined;
}
export { reproject, type ReprojectOptions, type ReprojectProgress, type ReprojectResult } from './reproject.js';
