/**
 * The outbox dispatcher on every database backend, against the fake Resend and Slack: rows are
 * sent once per (kind, key), retried with backoff, held back by Retry-After, dead-lettered with
 * their reason, recovered after a crashed dispatcher's lease, released at shutdown, replayable.
 */
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentSendError } from '../../src/core/sender.js';
import type { Db } from '../../src/core/db.js';
import { claimOutbox } from '../../src/outbox/claim.js';
import { Dispatcher, type DispatcherOptions } from '../../src/outbox/dispatcher.js';
import { enqueueOutbox } from '../../src/outbox/enqueue.js';
import { OutboxRegistry } from '../../src/outbox/registry.js';
import { replayOutbox } from '../../src/outbox/replay.js';
import { createResendSenders } from '../../src/senders/resend.js';
import { createSlackSender } from '../../src/senders/slack.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeResend, type FakeResend } from '../support/fake-resend.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { silent, sleep, waitFor } from './support.js';

const welcome = (n: number) => ({ to: `user${n}@example.com`, userId: `user_${n}`, firstName: 'U', lastName: String(n), username: null });

interface Row {
  id: string;
  kind: string;
  key: string;
  status: string;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
  next_attempt_at: Date;
}

for (const backend of backends) {
  describe(`outbox dispatcher (${backend.name})`, () => {
    let database: TestDatabase;
    let db: Db;
    let resend: FakeResend;
    let slack: FakeSlack;
    let running: Dispatcher[] = [];

    beforeAll(async () => {
      database = await backend.create();
      db = database.db;
      resend = await startFakeResend();
      slack = await startFakeSlack();
    });
    afterAll(async () => {
      await resend.close();
      await slack.close();
      await database.drop();
    });
    beforeEach(async () => {
      for (const d of running) await d.stop({ timeoutMs: 100 });
      running = [];
      resend.reset();
      slack.reset();
      await db.query('delete from clerk.outbox');
    });

    const registry = () => {
      const r = new OutboxRegistry();
      for (const s of createResendSenders({ apiKey: resend.apiKey, from: 'Acme <hello@acme.test>', baseUrl: resend.url })) r.register(s.kind, s);
      r.register('slack.signup', createSlackSender({ webhookUrl: slack.url }));
      return r;
    };
    const start = (options: Partial<DispatcherOptions> = {}) => {
      const d = new Dispatcher({ db, schema: 'clerk', registry: options.registry ?? registry(), logger: silent, pollIntervalMs: 50, retryBaseMs: 20, retryMaxMs: 5000, sendTimeoutMs: 2000, ...options });
      d.start();
      running.push(d);
      return d;
    };
    const rows = async () => (await db.query<Row>('select * from clerk.outbox order by id')).rows;
    const row = async (kind: string, key: string) => (await db.query<Row>('select * from clerk.outbox where kind = $1 and key = $2', [kind, key])).rows[0]!;
    const settled = (kind: string, key: string, status = 'sent') => waitFor(`${kind}/${key} ${status}`, async () => (await row(kind, key))?.status === status);

    it('enqueueOutbox keeps one row per (kind, key)', async () => {
      const first = await db.transaction((tx) => enqueueOutbox(tx, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(1), eventId: 'msg_a' }));
      const second = await db.transaction((tx) => enqueueOutbox(tx, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(99), eventId: 'msg_b' }));
      expect(first).toBeTypeOf('number');
      expect(second).toBeNull();
      expect(await rows()).toHaveLength(1);
      expect((await db.query<{ event_id: string }>('select event_id from clerk.outbox')).rows[0]!.event_id).toBe('msg_a');
    });

    it('a rolled-back transaction leaves no row', async () => {
      await expect(
        db.transaction(async (tx) => {
          await enqueueOutbox(tx, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(1) });
          throw new Error('apply failed');
        }),
      ).rejects.toThrow('apply failed');
      expect(await rows()).toHaveLength(0);
    });

    it('sends each row once, with the idempotency key, and marks it sent', async () => {
      for (let i = 0; i < 5; i++) await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: `user_${i}`, payload: welcome(i) });
      await enqueueOutbox(db, 'clerk', { kind: 'slack.signup', key: 'user_0', payload: { userId: 'user_0', name: 'U 0', email: 'user0@example.com' } });
      start();
      await waitFor('all sent', async () => (await rows()).every((r) => r.status === 'sent'));
      expect(resend.emails).toHaveLength(5);
      expect(resend.requests.map((r) => r.idempotencyKey).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `clerk-sync:email.welcome:user_${i}`));
      expect(slack.messages).toHaveLength(1);
      for (const r of await rows()) {
        expect(r.attempts).toBe(1);
        expect(r.sent_at).toBeInstanceOf(Date);
      }
    });

    it('wakes on NOTIFY without waiting for the poll', async () => {
      const d = start({ pollIntervalMs: 60_000 });
      await waitFor('listening', () => d.listening, 10_000);
      await db.transaction((tx) => enqueueOutbox(tx, 'clerk', { kind: 'email.welcome', key: 'user_n', payload: welcome(7) }));
      await waitFor('sent by notification', async () => (await row('email.welcome', 'user_n'))?.status === 'sent', 3000);
    });

    it('retries 5xx and network errors with backoff, then sends', async () => {
      resend.failNext({ status: 500 }, { status: 'destroy' }, { status: 503 });
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(1) });
      start();
      await settled('email.welcome', 'user_1');
      const r = await row('email.welcome', 'user_1');
      expect(r.attempts).toBe(4);
      expect(resend.emails).toHaveLength(1);
      expect(resend.requests).toHaveLength(4);
      // Backoff grows: 20 ms base doubling, equal jitter, so each gap is at least half its step.
      const gaps = resend.requests.slice(1).map((q, i) => q.at - resend.requests[i]!.at);
      expect(gaps[1]!).toBeGreaterThanOrEqual(20);
      expect(gaps[2]!).toBeGreaterThanOrEqual(40);
    });

    it('honours Retry-After on 429, and holds the whole kind back meanwhile', async () => {
      resend.failNext({ status: 429, retryAfter: '1' });
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(1) });
      const d = start({ concurrency: 1 });
      await waitFor('first request', () => resend.requests.length === 1);
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_2', payload: welcome(2) });
      d.wake();
      await sleep(500);
      expect(resend.requests).toHaveLength(1);
      await waitFor('both sent', async () => (await rows()).every((r) => r.status === 'sent'), 5000);
      const retry = resend.requests.find((q, i) => i > 0 && q.idempotencyKey === 'clerk-sync:email.welcome:user_1')!;
      expect(retry.at - resend.requests[0]!.at).toBeGreaterThanOrEqual(950);
      expect(resend.emails).toHaveLength(2);
    });

    it('a validation error (422) is dead at once with its reason', async () => {
      resend.failFor('bad@example.com', { status: 422, name: 'validation_error', message: 'Invalid `to` field: bad@example.com' });
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_bad', payload: { ...welcome(1), to: 'bad@example.com' } });
      start();
      await settled('email.welcome', 'user_bad', 'dead');
      const r = await row('email.welcome', 'user_bad');
      expect(r.attempts).toBe(1);
      expect(r.last_error).toContain('validation_error');
      // The status and Resend's error name, not its message: that echoes the recipient.
      expect(r.last_error).toBe('resend 422 validation_error');
      await sleep(200);
      expect(resend.requests).toHaveLength(1);
    });

    it('Slack errors: invalid_payload and no_service are dead, 500 is retried', async () => {
      slack.failNext({ status: 500 }, { status: 410 });
      await enqueueOutbox(db, 'clerk', { kind: 'slack.signup', key: 'user_1', payload: { userId: 'user_1', name: null, email: null } });
      start({ concurrency: 1 });
      await settled('slack.signup', 'user_1', 'dead');
      const r = await row('slack.signup', 'user_1');
      expect(r.attempts).toBe(2);
      expect(r.last_error).toBe('slack 410: channel_is_archived');
    });

    it('gives up after maxAttempts and keeps the last reason', async () => {
      resend.failFor('down@example.com', { status: 500, message: 'still down' });
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_down', payload: { ...welcome(1), to: 'down@example.com' } });
      start({ maxAttempts: 3 });
      await settled('email.welcome', 'user_down', 'dead');
      const r = await row('email.welcome', 'user_down');
      expect(r.attempts).toBe(3);
      expect(r.last_error).toMatch(/^resend 500 /);
      expect(resend.requests).toHaveLength(3);
    });

    it('a hung send is aborted at the timeout and retried', async () => {
      resend.failNext({ status: 'hang' });
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(1) });
      start({ sendTimeoutMs: 200 });
      await settled('email.welcome', 'user_1');
      expect((await row('email.welcome', 'user_1')).attempts).toBe(2);
      expect(resend.emails).toHaveLength(1);
    });

    it('rows of a kind without a sender wait until one is registered', async () => {
      const r = new OutboxRegistry();
      await enqueueOutbox(db, 'clerk', { kind: 'crm.sync', key: 'user_1', payload: { id: 'user_1' } });
      const d = start({ registry: r });
      await sleep(150);
      expect((await row('crm.sync', 'user_1')).status).toBe('pending');
      expect((await row('crm.sync', 'user_1')).attempts).toBe(0);
      const seen: unknown[] = [];
      r.register('crm.sync', (m) => void seen.push(m));
      d.wake();
      await settled('crm.sync', 'user_1');
      expect(seen).toEqual([expect.objectContaining({ kind: 'crm.sync', key: 'user_1', payload: { id: 'user_1' }, attempt: 1, idempotencyKey: 'clerk-sync:crm.sync:user_1' })]);
    });

    it('custom handlers: a throw is retried, PermanentSendError is dead at once', async () => {
      const r = new OutboxRegistry();
      let calls = 0;
      r.register('crm.sync', () => {
        if (++calls < 3) throw new Error(`crm down (${calls})`);
      });
      r.register('crm.bad', () => {
        throw new PermanentSendError('contact rejected');
      });
      await enqueueOutbox(db, 'clerk', { kind: 'crm.sync', key: 'k', payload: {} });
      await enqueueOutbox(db, 'clerk', { kind: 'crm.bad', key: 'k', payload: {} });
      start({ registry: r });
      await settled('crm.sync', 'k');
      await settled('crm.bad', 'k', 'dead');
      expect((await row('crm.sync', 'k')).attempts).toBe(3);
      expect((await row('crm.bad', 'k')).last_error).toBe('contact rejected');
    });

    it('a row claimed by a dispatcher that died is sent after its lease; Resend sees one email', async () => {
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(1) });
      // The "dead" dispatcher: claimed, maybe even sent, never recorded the outcome.
      const [claimed] = await claimOutbox(db, 'clerk', { kinds: ['email.welcome'], limit: 10, leaseMs: 300, maxAttempts: 12 });
      const [sender] = createResendSenders({ apiKey: resend.apiKey, from: 'Acme <hello@acme.test>', baseUrl: resend.url });
      await sender!.send({ id: claimed!.id, kind: claimed!.kind, key: claimed!.key, payload: claimed!.payload, eventId: null, attempt: 1, idempotencyKey: 'clerk-sync:email.welcome:user_1' }, { signal: AbortSignal.timeout(2000) });
      start();
      await sleep(150);
      expect((await row('email.welcome', 'user_1')).status).toBe('pending');
      await settled('email.welcome', 'user_1');
      expect((await row('email.welcome', 'user_1')).attempts).toBe(2);
      expect(resend.requests).toHaveLength(2);
      expect(resend.emails).toHaveLength(1);
    });

    it('Slack (no idempotency key): a row whose dispatcher died mid-send is not posted again but dead as in doubt; replay posts it', async () => {
      await enqueueOutbox(db, 'clerk', { kind: 'slack.signup', key: 'user_1', payload: { userId: 'user_1', name: 'Ann', email: null } });
      // The "dead" dispatcher claimed it and never recorded an outcome: Slack may have posted it.
      await claimOutbox(db, 'clerk', { kinds: ['slack.signup'], limit: 10, leaseMs: 0, maxAttempts: 12 });
      start();
      await settled('slack.signup', 'user_1', 'dead');
      const r = await row('slack.signup', 'user_1');
      expect(r.last_error).toMatch(/^in doubt: .*a dispatcher stopped while sending it/);
      expect(slack.messages).toHaveLength(0);
      // The operator checked the channel: it never arrived.
      expect(await replayOutbox(db, 'clerk', { ids: [Number(r.id)] })).toBe(1);
      await settled('slack.signup', 'user_1');
      expect(slack.messages).toHaveLength(1);
    });

    it('Slack: a send that times out is dead as in doubt, not retried; Resend retries the same (its key drops a repeat)', async () => {
      slack.failNext({ status: 'hang' });
      await enqueueOutbox(db, 'clerk', { kind: 'slack.signup', key: 'user_1', payload: { userId: 'user_1', name: 'Ann', email: null } });
      start({ sendTimeoutMs: 200 });
      await settled('slack.signup', 'user_1', 'dead');
      const r = await row('slack.signup', 'user_1');
      expect(r.attempts).toBe(1);
      expect(r.last_error).toMatch(/^in doubt: .*timed out/);
    });

    it('Slack: a connection broken after the request went out is in doubt; one never made is retried', async () => {
      slack.failNext({ status: 'destroy' });
      await enqueueOutbox(db, 'clerk', { kind: 'slack.signup', key: 'user_1', payload: { userId: 'user_1', name: 'Ann', email: null } });
      const first = start({ concurrency: 1 });
      await settled('slack.signup', 'user_1', 'dead');
      expect(await row('slack.signup', 'user_1')).toMatchObject({ attempts: 1, last_error: expect.stringMatching(/^in doubt: .*slack request failed/) });
      await first.stop({ timeoutMs: 100 });
      running = running.filter((x) => x !== first);

      // A port nothing listens on: the request never left, so sending again is safe.
      const closed = await new Promise<number>((resolve) => {
        const server = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = server.address() as net.AddressInfo;
          server.close(() => resolve(port));
        });
      });
      const r = new OutboxRegistry().register('slack.signup', createSlackSender({ webhookUrl: `http://127.0.0.1:${closed}/services/T/B/X` }));
      await enqueueOutbox(db, 'clerk', { kind: 'slack.signup', key: 'user_2', payload: { userId: 'user_2', name: 'Bo', email: null } });
      start({ registry: r, maxAttempts: 2 });
      await settled('slack.signup', 'user_2', 'dead');
      const refused = await row('slack.signup', 'user_2');
      expect(refused.attempts).toBe(2);
      expect(refused.last_error).toMatch(/^slack request failed: .*ECONNREFUSED/);
    });

    it('Slack: a send cut off by stop() keeps its claim, and the next dispatcher finds it in doubt', async () => {
      slack.failNext({ status: 'hang' });
      await enqueueOutbox(db, 'clerk', { kind: 'slack.signup', key: 'user_1', payload: { userId: 'user_1', name: 'Ann', email: null } });
      const d = start({ sendTimeoutMs: 30_000, leaseMs: 300 });
      await waitFor('request in flight', () => slack.posts.length === 1);
      await d.stop({ timeoutMs: 100 });
      running = running.filter((x) => x !== d);
      expect(await row('slack.signup', 'user_1')).toMatchObject({ status: 'pending', attempts: 1 });
      start({ leaseMs: 300 });
      await settled('slack.signup', 'user_1', 'dead');
      expect((await row('slack.signup', 'user_1')).last_error).toMatch(/^in doubt: /);
      expect(slack.messages).toHaveLength(0);
    });

    it('a row whose every attempt died with its dispatcher ends dead, not retried forever', async () => {
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(1) });
      for (let i = 0; i < 3; i++) {
        await claimOutbox(db, 'clerk', { kinds: ['email.welcome'], limit: 10, leaseMs: 0, maxAttempts: 3 });
      }
      const [last] = await claimOutbox(db, 'clerk', { kinds: ['email.welcome'], limit: 10, leaseMs: 0, maxAttempts: 3 });
      expect(last!.status).toBe('dead');
      const r = await row('email.welcome', 'user_1');
      expect(r.status).toBe('dead');
      expect(r.last_error).toContain('dispatcher stopped while sending');
    });

    it('stop() aborts a send that outlives the grace period and hands the row back', async () => {
      resend.failNext({ status: 'hang' });
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(1) });
      const d = start({ sendTimeoutMs: 30_000 });
      await waitFor('request in flight', () => resend.requests.length === 1);
      const t = Date.now();
      await d.stop({ timeoutMs: 200 });
      running = running.filter((x) => x !== d);
      expect(Date.now() - t).toBeLessThan(3000);
      const r = await row('email.welcome', 'user_1');
      expect(r).toMatchObject({ status: 'pending', attempts: 0 });
      expect(r.next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('dispatchOnce({ eventId }) sends only what that event caused', async () => {
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(1), eventId: 'msg_1' });
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_2', payload: welcome(2), eventId: 'msg_2' });
      const d = new Dispatcher({ db, schema: 'clerk', registry: registry(), logger: silent, listen: false });
      expect(await d.dispatchOnce({ eventId: 'msg_1' })).toEqual({ sent: 1, failed: 0, dead: 0, released: 0 });
      expect((await rows()).map((r) => r.status)).toEqual(['sent', 'pending']);
      expect(await d.drain()).toEqual({ sent: 1, failed: 0, dead: 0, released: 0 });
    });

    it('replayOutbox requeues dead rows after the fix; sent rows stay sent', async () => {
      resend.failNext({ status: 403, name: 'invalid_api_key' });
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_1', payload: welcome(1) });
      await enqueueOutbox(db, 'clerk', { kind: 'email.welcome', key: 'user_2', payload: welcome(2) });
      const d = new Dispatcher({ db, schema: 'clerk', registry: registry(), logger: silent, listen: false, concurrency: 1 });
      await d.drain();
      expect((await rows()).map((r) => r.status).sort()).toEqual(['dead', 'sent']);
      expect(await replayOutbox(db, 'clerk', { statuses: ['dead'] })).toBe(1);
      expect(await replayOutbox(db, 'clerk', { statuses: ['dead'] })).toBe(0);
      await d.drain();
      expect((await rows()).map((r) => r.status)).toEqual(['sent', 'sent']);
      expect(resend.emails).toHaveLength(2);
    });

    it.skipIf(backend.name === 'pglite')('two dispatchers share the rows: each sent once', async () => {
      // Needs several connections: PGlite has one, so SKIP LOCKED between dispatchers cannot be shown there.
      const n = 200;
      await db.query(
        `insert into clerk.outbox (kind, key, payload)
         select 'email.welcome', 'user_' || i, jsonb_build_object('to', 'u' || i || '@example.com', 'userId', 'user_' || i) from generate_series(1, $1) i`,
        [n],
      );
      resend.delayMs = 5;
      const counts = [0, 0];
      start({ concurrency: 8, onOutcome: (_k, o) => void (o === 'sent' && counts[0]!++) });
      start({ concurrency: 8, onOutcome: (_k, o) => void (o === 'sent' && counts[1]!++) });
      await waitFor('all sent', async () => (await db.query<{ n: number }>("select count(*)::int n from clerk.outbox where status = 'sent'")).rows[0]!.n === n, 20_000);
      expect(resend.requests).toHaveLength(n);
      expect(new Set(resend.requests.map((r) => r.idempotencyKey)).size).toBe(n);
      expect(resend.emails).toHaveLength(n);
      expect(counts[0]! + counts[1]!).toBe(n);
      expect(Math.min(...counts)).toBeGreaterThan(0);
    });
  });
}
