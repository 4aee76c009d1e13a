/**
 * `GET /metrics` over real HTTP on every database backend: delivery counters by type and status,
 * verification failures by reason, the intake histogram, queue gauges read at scrape time, the
 * apply and backfill hooks, and one registry per ClerkSync.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueEvents } from '../../src/inbox/enqueue.js';
import { createQueueStatsReader } from '../../src/metrics/queue-stats.js';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { createStandaloneServer, webRoute } from '../../src/server/standalone.js';
import { signedHeaders } from '../../src/verify/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { listen } from '../support/http.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelPart = line.slice(name.length).split(' ')[0]!;
    if (wanted.every((w) => labelPart.includes(w))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

for (const backend of backends) {
  describe(`metrics (${backend.name})`, () => {
    let database: TestDatabase;
    let sync: ClerkSync;
    let url: string;
    let close: () => Promise<void>;

    beforeAll(async () => {
      database = await backend.create();
      sync = createClerkSync({ db: database.db, secret: SECRET, logger: false });
      const server = createStandaloneServer(sync, { routes: [webRoute('/metrics', sync.handleMetrics)] });
      url = await listen(server);
      close = () =>
        new Promise((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
    });
    afterAll(async () => {
      await close();
      await database.drop();
    });

    const post = (id: string, body: string, headers = signedHeaders({ id, timestamp: Math.floor(Date.now() / 1000), body, secret: SECRET })) =>
      fetch(`${url}/webhooks/clerk`, { method: 'POST', headers, body }).then((r) => r.status);
    const scrape = async () => {
      const response = await fetch(`${url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      return response.text();
    };

    it('counts deliveries by type and status, duplicates, and verification failures by reason', async () => {
      const body = JSON.stringify({ type: 'user.created', object: 'event', timestamp: Date.now(), data: { id: 'user_m1', object: 'user' } });
      expect(await post('msg_m1', body)).toBe(200);
      expect(await post('msg_m1', body)).toBe(200);
      expect(await post('msg_m2', body, { ...signedHeaders({ id: 'msg_m2', timestamp: Math.floor(Date.now() / 1000), body, secret: SECRET }), 'svix-signature': 'v1,AAAA' })).toBe(400);
      expect(await post('msg_m3', body, { 'content-type': 'application/json' })).toBe(400);
      const text = await scrape();
      expect(sample(text, 'clerk_sync_webhook_deliveries_total', { type: 'user.created', status: '200' })).toBe(2);
      expect(sample(text, 'clerk_sync_webhook_deliveries_total', { type: 'unknown', status: '400' })).toBe(2);
      expect(sample(text, 'clerk_sync_webhook_duplicates_total')).toBe(1);
      expect(sample(text, 'clerk_sync_webhook_verification_failures_total', { reason: 'invalid_signature' })).toBe(1);
      expect(sample(text, 'clerk_sync_webhook_verification_failures_total', { reason: 'missing_headers' })).toBe(1);
      expect(sample(text, 'clerk_sync_webhook_intake_duration_seconds_count')).toBe(4);
    });

    it('reads the queue gauges from the database at scrape time', async () => {
      await database.db.query(`update clerk.webhook_events set received_at = now() - interval '90 seconds'`);
      await enqueueEvents(database.db, 'clerk', [{ id: 'msg_dead', type: 'user.updated', clerkTimestamp: null, instanceId: null, payload: '{"type":"user.updated","data":{}}' }]);
      await database.db.query(`update clerk.webhook_events set status = 'dead' where id = 'msg_dead'`);
      await database.db.query(`insert into clerk.outbox (kind, key, payload, status) values ('email.welcome', 'user_a', '{}', 'pending'), ('slack.signup', 'user_a', '{}', 'dead'), ('email.welcome', 'user_b', '{}', 'failed')`);
      // A fresh instance: dead letters are re-counted at most every 30 s, and this one never counted.
      const fresh = createClerkSync({ db: database.db, secret: SECRET, logger: false });
      const text = await (await fresh.handleMetrics(new Request('http://localhost/metrics'))).text();
      expect(sample(text, 'clerk_sync_database_up')).toBe(1);
      expect(sample(text, 'clerk_sync_inbox_pending')).toBe(1);
      expect(sample(text, 'clerk_sync_inbox_dead')).toBe(1);
      expect(sample(text, 'clerk_sync_inbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(89);
      expect(sample(text, 'clerk_sync_outbox_pending')).toBe(1);
      expect(sample(text, 'clerk_sync_outbox_retrying')).toBe(1);
      expect(sample(text, 'clerk_sync_outbox_dead')).toBe(1);
    });

    it('re-counts dead letters at most every 30 s, pending ones at every scrape', async () => {
      let now = 0;
      const read = createQueueStatsReader(async () => database.db, 'clerk', { now: () => now });
      const first = await read();
      await database.db.query(`update clerk.webhook_events set status = 'dead' where id = 'msg_m1'`);
      const item = { type: 'user.updated', clerkTimestamp: null, instanceId: null, payload: '{"type":"user.updated","data":{}}' };
      // One pending event became dead, two new ones wait: one more pending than before.
      await enqueueEvents(database.db, 'clerk', [{ id: 'msg_new_1', ...item }, { id: 'msg_new_2', ...item }]);
      now = 29_000;
      const cached = await read();
      expect(cached.inbox.dead).toBe(first.inbox.dead);
      expect(cached.inbox.pending).toBe(first.inbox.pending + 1);
      now = 30_000;
      expect((await read()).inbox.dead).toBe(first.inbox.dead + 1);
    });

    it('exposes hooks for apply latency and backfill progress', async () => {
      sync.metrics.observeApply('user.created', 'applied', 3);
      sync.metrics.observeApply('user.created', 'stale', 1);
      sync.metrics.observeBackfill('users', 500, 480);
      sync.metrics.setBackfillProgress('users', 500, 10_000);
      sync.metrics.observeBackfillRequest('users.list', 429);
      const text = await scrape();
      expect(sample(text, 'clerk_sync_apply_duration_seconds_count', { outcome: 'applied' })).toBe(1);
      expect(sample(text, 'clerk_sync_events_applied_total', { type: 'user.created', outcome: 'stale' })).toBe(1);
      expect(sample(text, 'clerk_sync_backfill_entities_total', { resource: 'users', result: 'stored' })).toBe(480);
      expect(sample(text, 'clerk_sync_backfill_done', { resource: 'users' })).toBe(500);
      expect(sample(text, 'clerk_sync_backfill_total', { resource: 'users' })).toBe(10_000);
      expect(sample(text, 'clerk_sync_backfill_api_requests_total', { operation: 'users.list', status: '429' })).toBe(1);
    });

    it('keeps one registry per instance', async () => {
      const other = createClerkSync({ db: database.db, secret: SECRET, logger: false });
      expect(other.metrics.registry).not.toBe(sync.metrics.registry);
      const text = await other.metrics.render();
      expect(sample(text, 'clerk_sync_webhook_deliveries_total', { type: 'user.created', status: '200' })).toBeUndefined();
      expect((await other.handleMetrics(new Request('http://localhost/metrics', { method: 'POST' }))).status).toBe(405);
    });
  });
}

describe('metrics without a database', () => {
  it('still answers, with clerk_sync_database_up 0 (queue gauges keep their last value)', async () => {
    const sync = createClerkSync({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', logger: false, autoMigrate: false, poolSize: 1 });
    try {
      const response = await sync.handleMetrics(new Request('http://localhost/metrics'));
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(sample(text, 'clerk_sync_database_up')).toBe(0);
    } finally {
      await sync.close();
    }
  });
});
