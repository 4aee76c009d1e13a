/** Shared set-up of the backfill tests: apply dependencies, a fake API client, inbox queries. */
import type { Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/logger.js';
import type { ApplyDeps } from '../../src/apply/apply-batch.js';
import { drainEvents } from '../../src/apply/drain.js';
import { createClerkApi, type ClerkApiOptions } from '../../src/backfill/clerk-api.js';
import type { FakeClerkApi } from '../support/fake-clerk-api.js';

export const SCHEMA = 'clerk';

export function applyDeps(db: Db, effects = { welcomeEmail: true, adminWelcomeEmail: true, slackSignup: true, emailRelay: false }): ApplyDeps {
  return {
    db,
    schema: SCHEMA,
    logger: createLogger('silent'),
    context: { schema: SCHEMA, deleteMode: 'soft' },
    effects,
    retry: { maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 100 },
  };
}

export async function drain(db: Db) {
  return drainEvents(applyDeps(db), { batchSize: 500 });
}

export function fakeApi(fake: FakeClerkApi, options: Partial<ClerkApiOptions> = {}) {
  return createClerkApi({ secretKey: fake.secretKey, apiUrl: fake.url, requestsPerSecond: Infinity, sleep: async () => {}, ...options });
}

export async function inboxByType(db: Db): Promise<Record<string, number>> {
  const r = await db.query<{ type: string; n: number }>(`select type, count(*)::int as n from clerk.webhook_events where source = 'backfill' group by type order by type`);
  return Object.fromEntries(r.rows.map((row) => [row.type, row.n]));
}

export async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const r = await db.query<{ n: number }>(sql, params);
  return Number(r.rows[0]?.n ?? 0);
}
