/**
 * The delivery deadline at the receiver, with a database that can be made to stop answering:
 * nothing committed → 503 at the deadline; committed → 2xx even when what follows the commit
 * (inline apply) is still running at the deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/core/db.js';
import { createClerkSync } from '../../src/service/clerk-sync.js';
import { signedHeaders } from '../../src/verify/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { nowSeconds, SECRET } from './support.js';

const DEADLINE_MS = 600;
const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** The database, or (frozen) one that takes every statement and never answers. */
function freezable(db: Db): Db & { frozen: boolean } {
  const wrapper: Db & { frozen: boolean } = {
    kind: db.kind,
    frozen: false,
    query: (text, params) => (wrapper.frozen ? never() : db.query(text, params)),
    transaction: (fn, options) => (wrapper.frozen ? never() : db.transaction(fn, options)),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    close: async () => {},
  };
  return wrapper;
}

function request(id: string): Request {
  const body = JSON.stringify({ type: 'user.updated', object: 'event', timestamp: Date.now(), data: { id: 'user_1', object: 'user', updated_at: Date.now() } });
  return new Request('http://127.0.0.1/webhooks/clerk', { method: 'POST', body, headers: { 'content-type': 'application/json', ...signedHeaders({ id, timestamp: nowSeconds(), body, secret: SECRET }) } });
}

describe('the delivery deadline', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await backends[0]!.create();
  });
  afterAll(async () => database.drop());
  const stored = async (id: string) => (await database.db.query('select 1 from clerk.webhook_events where id = $1', [id])).rows.length;

  it('answers 503 database_unavailable at the deadline when the commit does not come, and stores nothing it acknowledged', async () => {
    const db = freezable(database.db);
    const sync = createClerkSync({ db, secret: SECRET, logger: false, deliveryTimeoutMs: DEADLINE_MS });
    expect((await sync.handleWebhook(request('msg_deadline_warm'))).status).toBe(200);
    db.frozen = true;
    const started = performance.now();
    const answer = await sync.handleWebhook(request('msg_deadline_1'));
    const ms = performance.now() - started;
    expect(answer.status).toBe(503);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('database_unavailable');
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 20);
    expect(ms).toBeLessThan(DEADLINE_MS + 1000);
    expect(await stored('msg_deadline_1')).toBe(0);
    db.frozen = false;
    expect((await sync.handleWebhook(request('msg_deadline_1'))).status).toBe(200);
    expect(await stored('msg_deadline_1')).toBe(1);
  });

  it('answers 200 at the deadline once the delivery is committed, when the inline apply after it is still running', async () => {
    const sync = createClerkSync({ db: database.db, secret: SECRET, logger: false, deliveryTimeoutMs: DEADLINE_MS });
    sync.setAfterCommit(() => never());
    const started = performance.now();
    const answer = await sync.handleWebhook(request('msg_deadline_2'));
    expect(answer.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(DEADLINE_MS + 1000);
    expect(await stored('msg_deadline_2')).toBe(1);
  });

  it('answers 503 at the deadline when opening the database does not finish (first use migrates)', async () => {
    const db = freezable(database.db);
    db.frozen = true;
    const sync = createClerkSync({ db, secret: SECRET, logger: false, deliveryTimeoutMs: DEADLINE_MS, readyTimeoutMs: DEADLINE_MS });
    let started = performance.now();
    expect((await sync.handleWebhook(request('msg_deadline_3'))).status).toBe(503);
    expect(performance.now() - started).toBeLessThan(DEADLINE_MS + 1000);
    started = performance.now();
    expect(await sync.readiness()).toEqual({ ok: false, database: 'unreachable', pendingMigrations: [], message: `database did not answer within ${DEADLINE_MS} ms` });
    expect(performance.now() - started).toBeLessThan(DEADLINE_MS + 1000);
  });
});
