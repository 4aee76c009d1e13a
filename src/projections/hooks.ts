/** User hooks keyed by event type (or `*` for every event), run inside the apply transaction. */
import type { Queryable } from '../core/db.js';
import type { ApplyStatus, Hook, StoredEvent } from './types.js';

export class Hooks {
  readonly #hooks: Array<{ type: string; fn: Hook }> = [];

  /**
   * @example
   * hooks.on('organizationMembership.created', async (event, tx) => {
   *   await tx.query('insert into team_members ...');
   * });
   */
  on(type: string | '*', fn: Hook): this {
    this.#hooks.push({ type, fn });
    return this;
  }

  /** Runs the hooks registered for the event's type and for `*`, in registration order; the first failure propagates. */
  async run(event: StoredEvent, tx: Queryable, context: { status: ApplyStatus; schema: string } = { status: 'applied', schema: 'clerk' }): Promise<void> {
    for (const { type, fn } of this.#hooks) {
      if (type === '*' || type === event.type) await fn(event, tx, context);
    }
  }

  /** Whether a hook runs for events of this type. */
  listensTo(type: string): boolean {
    return this.#hooks.some((h) => h.type === '*' || h.type === type);
  }

  get size(): number {
    return this.#hooks.length;
  }
}
