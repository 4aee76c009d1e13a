/**
 * Where a backfill stands, in the database (clerk.backfill_runs and clerk.backfill_state), so a
 * run killed anywhere is resumed by the next one, on this machine or another.
 *
 * A run is held by one process at a time: the holder (host, pid, a random token) is written when
 * the run is taken and its heartbeat with every page. Another process takes the run over only
 * when the holder released it, is a dead process on the same host, or has been silent for
 * `staleAfterMs`; otherwise it is refused with `backfill_in_progress`.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db, Queryable } from '../core/db.js';
import { ClerkSyncError } from '../core/errors.js';
import { quoteIdentifier } from '../db/identifiers.js';
import type { ListingSpec, ResourceName } from './resources.js';

export interface Holder {
  host: string;
  pid: number;
  token: string;
}

export interface ListingState {
  listing: string;
  position: number;
  total: number | null;
  listed: number;
  stored: number;
  perOrganization: boolean;
  finished: boolean;
}

export interface RunState {
  id: string;
  resources: ResourceName[];
  startedAt: Date;
  /** True when this process resumed an earlier run. */
  resumed: boolean;
  listings: Map<string, ListingState>;
}

export interface BackfillStatus {
  id: string;
  resources: string[];
  status: 'open' | 'complete' | 'replaced';
  holder: Holder | null;
  heartbeatAt: Date | null;
  requests: number;
  startedAt: Date;
  finishedAt: Date | null;
  listings: Array<{ listing: string; position: number; total: number | null; listed: number; stored: number; perOrganization: boolean; finishedAt: Date | null }>;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
};

export class BackfillState {
  readonly holder: Holder = { host: hostname(), pid: process.pid, token: randomUUID() };
  readonly #s: string;

  constructor(
    readonly db: Db,
    schema: string,
    readonly staleAfterMs = 120_000,
  ) {
    this.#s = quoteIdentifier(schema);
  }

  /**
   * Resumes the open run when it covers the same resources, or begins a new one (an open run of
   * other resources is marked replaced). `restart`: begin anew whatever is open.
   */
  async begin(resources: ResourceName[], listings: readonly ListingSpec[], options: { restart?: boolean } = {}): Promise<RunState> {
    const s = this.#s;
    for (let attempt = 0; ; attempt++) {
      const open = (await this.db.query<{ id: string; resources: string[]; holder: Holder | null; age_ms: number | null; started_at: Date }>(
        `select id, resources, holder, (extract(epoch from now() - heartbeat_at) * 1000)::float8 as age_ms, started_at from ${s}.backfill_runs where status = 'open'`,
      )).rows[0];
      if (open) {
        this.#refuseIfHeld(open.holder, open.age_ms);
        const same = !options.restart && open.resources.join(',') === resources.join(',');
        if (same) {
          const taken = await this.db.query(
            `update ${s}.backfill_runs set holder = $2, heartbeat_at = now(), updated_at = now() where id = $1 and status = 'open' and holder is not distinct from $3::jsonb`,
            [open.id, JSON.stringify(this.holder), open.holder === null ? null : JSON.stringify(open.holder)],
          );
          if (taken.rowCount === 1) {
            await this.db.query(
              `insert into ${s}.backfill_state (run_id, listing) select $1, unnest($2::text[]) on conflict do nothing`,
              [open.id, listings.map((l) => l.key)],
            );
            return { id: open.id, resources, startedAt: open.started_at, resumed: true, listings: await this.#listings(open.id) };
          }
          continue; // another process took it between the read and the update: look again
        }
        await this.db.query(`update ${s}.backfill_runs set status = 'replaced', holder = null, updated_at = now() where id = $1 and status = 'open'`, [open.id]);
      }
      const id = `bf_${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
      try {
        const startedAt = await this.db.transaction(async (tx) => {
          const r = await tx.query<{ started_at: Date }>(
            `insert into ${s}.backfill_runs (id, resources, holder, heartbeat_at) values ($1, $2, $3, now()) returning started_at`,
            [id, resources, JSON.stringify(this.holder)],
          );
          await tx.query(`insert into ${s}.backfill_state (run_id, listing) select $1, unnest($2::text[])`, [id, listings.map((l) => l.key)]);
          return r.rows[0]!.started_at;
        });
        return { id, resources, startedAt, resumed: false, listings: await this.#listings(id) };
      } catch (error) {
        // 23505: another process began a run between our read and insert; look again.
        if ((error as { code?: string }).code !== '23505' || attempt > 3) throw error;
      }
    }
  }

  /** Throws `backfill_in_progress` while another live process holds the open run (reconcile checks it before listing). */
  async refuseIfRunning(): Promise<void> {
    const open = (await this.db.query<{ holder: Holder | null; age_ms: number | null }>(
      `select holder, (extract(epoch from now() - heartbeat_at) * 1000)::float8 as age_ms from ${this.#s}.backfill_runs where status = 'open'`,
    )).rows[0];
    if (open) this.#refuseIfHeld(open.holder, open.age_ms);
  }

  #refuseIfHeld(holder: Holder | null, ageMs: number | null): void {
    if (!holder || holder.token === this.holder.token) return;
    const dead = holder.host === this.holder.host && !isAlive(holder.pid);
    const silent = ageMs === null || ageMs > this.staleAfterMs;
    if (dead || silent) return;
    throw new ClerkSyncError(
      'backfill_in_progress',
      `Another backfill is running (pid ${holder.pid} on ${holder.host}, last seen ${Math.round((ageMs ?? 0) / 1000)} s ago); wait for it, or stop it and run again (a holder silent for ${Math.round(this.staleAfterMs / 1000)} s is taken over)`,
    );
  }

  async #listings(runId: string): Promise<Map<string, ListingState>> {
    const r = await this.db.query<{ listing: string; position: number; total: number | null; listed: string; stored: string; per_organization: boolean; finished: boolean }>(
      `select listing, position, total, listed::text, stored::text, per_organization, finished_at is not null as finished from ${this.#s}.backfill_state where run_id = $1`,
      [runId],
    );
    return new Map(
      r.rows.map((row) => [
        row.listing,
        { listing: row.listing, position: row.position, total: row.total, listed: Number(row.listed), stored: Number(row.stored), perOrganization: row.per_organization, finished: row.finished },
      ]),
    );
  }

  /**
   * Saves a listing's new position, and adds what the page listed and stored, inside the caller's
   * transaction (the one that stored the page's events), with the heartbeat; fails when another
   * process took the run over.
   */
  async advance(tx: Queryable, runId: string, state: ListingState, added: { listed: number; stored: number; requests: number }): Promise<void> {
    const moved = await tx.query(
      `update ${this.#s}.backfill_state set position = $3, total = $4, listed = listed + $5, stored = stored + $6, per_organization = $7,
              finished_at = case when $8 then now() end, updated_at = now()
        where run_id = $1 and listing = $2`,
      [runId, state.listing, state.position, state.total, added.listed, added.stored, state.perOrganization, state.finished],
    );
    const held = await tx.query(
      `update ${this.#s}.backfill_runs set heartbeat_at = now(), updated_at = now(), requests = requests + $3 where id = $1 and holder->>'token' = $2`,
      [runId, this.holder.token, added.requests],
    );
    if (moved.rowCount !== 1 || held.rowCount !== 1) {
      throw new ClerkSyncError('backfill_in_progress', 'This backfill was taken over by another process; it stops here');
    }
  }

  async finish(runId: string): Promise<void> {
    await this.db.query(`update ${this.#s}.backfill_runs set status = 'complete', finished_at = now(), updated_at = now(), holder = null where id = $1 and holder->>'token' = $2`, [runId, this.holder.token]);
  }

  /** Lets the next run take over at once (a stop that is not a crash). */
  async release(runId: string): Promise<void> {
    await this.db.query(`update ${this.#s}.backfill_runs set holder = null, updated_at = now() where id = $1 and holder->>'token' = $2`, [runId, this.holder.token]);
  }
}

/** The latest run and its listings (status, the admin page); null before the first backfill or before migration 0005. */
export async function readBackfillStatus(db: Queryable, schema: string): Promise<BackfillStatus | null> {
  const s = quoteIdentifier(schema);
  const exists = await db.query<{ ok: boolean }>('select to_regclass($1) is not null as ok', [`${s}.backfill_runs`]);
  if (!exists.rows[0]?.ok) return null;
  const run = (await db.query<{ id: string; resources: string[]; status: BackfillStatus['status']; holder: Holder | null; heartbeat_at: Date | null; requests: number; started_at: Date; finished_at: Date | null }>(
    `select id, resources, status, holder, heartbeat_at, requests, started_at, finished_at from ${s}.backfill_runs order by (status = 'open') desc, started_at desc limit 1`,
  )).rows[0];
  if (!run) return null;
  const rows = await db.query<{ listing: string; position: number; total: number | null; listed: string; stored: string; per_organization: boolean; finished_at: Date | null }>(
    `select listing, position, total, listed::text, stored::text, per_organization, finished_at from ${s}.backfill_state where run_id = $1`,
    [run.id],
  );
  return {
    id: run.id,
    resources: run.resources,
    status: run.status,
    holder: run.holder,
    heartbeatAt: run.heartbeat_at,
    requests: Number(run.requests),
    startedAt: run.started_at,
    finishedAt: run.finished_at,
    listings: rows.rows.map((r) => ({ listing: r.listing, position: r.position, total: r.total, listed: Number(r.listed), stored: Number(r.stored), perOrganization: r.per_organization, finishedAt: r.finished_at })),
  };
}
