/**
 * Scale: 10,000 users and 1,000 organizations with 10 memberships each, through the fake Backend
 * API (pages of 500, memberships listed for the whole instance), stored on every backend and applied
 * on Postgres. Storing takes a few seconds on either; applying 21,000 events takes ~8 s on
 * Postgres but ~30 s on PGlite (single connection, statement by statement), which would push this
 * file past its time budget, so PGlite's apply is covered by backfill.test.ts at small scale.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/backfill/run.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeClerkApi, type FakeClerkApi } from '../support/fake-clerk-api.js';
import { SCHEMA, count, drain, fakeApi, inboxByType } from './support.js';

for (const backend of backends) {
  describe(`backfill at scale (${backend.name})`, () => {
    let database: TestDatabase;
    let fake: FakeClerkApi;

    beforeAll(async () => {
      database = await backend.create();
      fake = await startFakeClerkApi();
      fake.seed({ users: 10_000, organizations: 1_000, membershipsPerOrganization: 10 });
    });
    afterAll(async () => {
      await fake.close();
      await database.drop();
    });

    it('backfills 10,000 users and 1,000 organizations with their memberships', async () => {
      const started = performance.now();
      const progress: number[] = [];
      const result = await runBackfill({
        db: database.db,
        schema: SCHEMA,
        api: fakeApi(fake),
        resources: ['users', 'organizations', 'memberships'],
        concurrency: 8,
        onProgress: (p) => {
          if (p.resource === 'users') progress.push(p.done);
        },
      });
      const stored = performance.now() - started;
      expect(result.complete).toBe(true);
      expect(result.counts).toMatchObject({ users: { listed: 10_000, stored: 10_000 }, organizations: { listed: 1_000, stored: 1_000 }, memberships: { listed: 10_000, stored: 10_000 } });
      expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 500));
      // 20 user pages and one count, 2 organization pages, 20 pages of memberships for the whole instance.
      expect(result.requests).toBe(43);
      expect(fake.requests.filter((r) => r.path === '/v1/users').every((r) => r.query.limit === '500')).toBe(true);
      expect(await inboxByType(database.db)).toEqual({ 'user.updated': 10_000, 'organization.updated': 1_000, 'organizationMembership.updated': 10_000 });

      if (backend.name === 'pglite') return;
      const drained = await drain(database.db);
      expect(drained).toMatchObject({ applied: 21_000, failed: 0, dead: 0, waiting: 0 });
      expect(await count(database.db, 'select count(*)::int as n from clerk.users')).toBe(10_000);
      expect(await count(database.db, 'select count(*)::int as n from clerk.active_organization_memberships')).toBe(10_000);
      expect(await count(database.db, 'select count(distinct organization_id)::int as n from clerk.organization_memberships')).toBe(1_000);
      console.log(`${backend.name}: stored in ${Math.round(stored)} ms, applied in ${Math.round(performance.now() - started - stored)} ms`);
    });
  });
}
