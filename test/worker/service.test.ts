/**
 * The worker as users get it: `createClerkSync` with a secret, fake Resend and Slack, signed
 * deliveries over loopback HTTP. Worker mode (background), inline mode (apply in the request),
 * drain, replay, custom side-effect kinds, and the once-at-start notes about senders.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enqueueOutbox } from '../../src/outbox/enqueue.js';
import { createClerkSync } from '../../src/service/clerk-sync.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeResend, type FakeResend } from '../support/fake-resend.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { post } from '../support/http.js';
import { sleep, waitFor } from '../outbox/support.js';
import { user } from './events.js';
import { delivery, SECRET, services } from './services.js';
import { captureLogs } from '../support/logs.js';

for (const backend of backends) {
  describe(`clerk-sync worker and inline mode (${backend.name})`, () => {
    let database: TestDatabase;
    let resend: FakeResend;
    let slack: FakeSlack;
    const served = services(() => ({
      db: database.db,
      resend: { apiKey: resend.apiKey, from: 'Acme <hello@acme.test>', baseUrl: resend.url },
      slackWebhookUrl: slack.url,
    }));
    const make = served.make;

    beforeAll(async () => {
      database = await backend.create();
      resend = await startFakeResend();
      slack = await startFakeSlack();
    });
    afterAll(async () => {
      await resend.close();
      await slack.close();
      await database.drop();
    });
    beforeEach(async () => {
      await served.closeAll();
      resend.reset();
      slack.reset();
      await database.db.query('truncate clerk.webhook_events, clerk.outbox, clerk.users');
    });

    const status = async (id: string) => (await database.db.query<{ status: string }>('select status from clerk.webhook_events where id = $1', [id])).rows[0]?.status;

    it('worker mode: a sign-up delivered three times (two svix ids, one replay) gives one user, one email, one Slack message', async () => {
      const { sync, url } = await make();
      await sync.startWorker();
      const first = delivery('msg_1', 'user.created', user('user_1', 0));
      expect((await post(url, first.body, first.headers)).status).toBe(200);
      // Clerk sent it again under another svix id (it happens), and Svix retried the first.
      const again = delivery('msg_1b', 'user.created', user('user_1', 0));
      expect((await post(url, again.body, again.headers)).status).toBe(200);
      expect((await post(url, first.body, first.headers)).json).toMatchObject({ duplicate: true });
      await waitFor('email and Slack', () => resend.emails.length === 1 && slack.messages.length === 1);
      // Same version, so the tie-break (svix id) decides; with two worker loops either may be
      // applied first, and the other is then applied (it wins) or stale (it loses).
      const done = async (id: string) => ['applied', 'stale'].includes((await status(id))!);
      await waitFor('applied', async () => (await done('msg_1')) && (await done('msg_1b')));
      expect(await sync.replay({ all: true })).toBe(2);
      await waitFor('replayed', async () => !['pending', 'failed'].includes((await status('msg_1'))!) && !['pending', 'failed'].includes((await status('msg_1b'))!));
      await sleep(300);
      expect(resend.emails).toHaveLength(1);
      expect(resend.emails[0]).toMatchObject({ to: ['user_1@example.com'], subject: 'Welcome!', from: 'Acme <hello@acme.test>' });
      expect(resend.requests[0]!.idempotencyKey).toBe('clerk-sync:email.welcome:user_1');
      expect(slack.messages).toHaveLength(1);
      expect(slack.messages[0]!.body.text).toBe('New user signed up: First Last 0 (user_1@example.com)');
      expect((await database.db.query('select id from clerk.users')).rows).toEqual([{ id: 'user_1' }]);
    });

    it('inline mode: applied and sent before the answer; a failure still answers 200 and waits for drain', async () => {
      const { sync, url } = await make({ mode: 'inline' });
      const d = delivery('msg_1', 'user.created', user('user_1', 0));
      expect((await post(url, d.body, d.headers)).status).toBe(200);
      expect(await status('msg_1')).toBe('applied');
      expect(resend.emails).toHaveLength(1);
      expect(slack.messages).toHaveLength(1);

      let broken = true;
      sync.hooks.on('user.updated', () => {
        if (broken) throw new Error('profile service down');
      });
      const u = delivery('msg_2', 'user.updated', user('user_1', 5));
      const res = await post(url, u.body, u.headers);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ received: true, id: 'msg_2' });
      expect(await status('msg_2')).toBe('failed');
      broken = false;
      // Its retry is scheduled with backoff (20 ms base here): drain once it is due.
      await sleep(100);
      const drained = await sync.drain();
      expect(drained.events).toMatchObject({ applied: 1, failed: 0, dead: 0, waiting: 0 });
      expect(await status('msg_2')).toBe('applied');
    });

    it('inline mode: a side effect that fails in the request stays queued and is sent by drain', async () => {
      const { sync, url } = await make({ mode: 'inline' });
      resend.failNext({ status: 503 });
      const d = delivery('msg_1', 'user.created', user('user_1', 0));
      expect((await post(url, d.body, d.headers)).status).toBe(200);
      expect(await status('msg_1')).toBe('applied');
      expect(resend.emails).toHaveLength(0);
      await sleep(100);
      const drained = await sync.drain();
      expect(drained.outbox).toMatchObject({ sent: 1 });
      expect(resend.emails).toHaveLength(1);
    });

    it('custom kinds: registered handler, rows enqueued from a hook in the apply transaction, once per key', async () => {
      const { sync, url } = await make({ resend: undefined, slackWebhookUrl: undefined });
      const synced: unknown[] = [];
      sync.outbox.register('crm.sync', (row) => void synced.push(row.payload));
      sync.hooks.on('user.created', async (event, tx, { schema }) => {
        if (event.source === 'backfill') return;
        await enqueueOutbox(tx, schema, { kind: 'crm.sync', key: String(event.payload.data.id), payload: { userId: event.payload.data.id }, eventId: event.id });
      });
      await sync.startWorker();
      for (const id of ['msg_1', 'msg_2']) {
        const d = delivery(id, 'user.created', user('user_1', 0));
        await post(url, d.body, d.headers);
      }
      await waitFor('sent', () => synced.length === 1);
      await sleep(300);
      expect(synced).toEqual([{ userId: 'user_1' }]);
      // No email or Slack configured: no rows for them.
      expect((await database.db.query<{ kind: string }>('select kind from clerk.outbox')).rows).toEqual([{ kind: 'crm.sync' }]);
    });

    it('says once at start which senders are on and off', async () => {
      const { lines, logger } = captureLogs();
      const sync = createClerkSync({ db: database.db, secret: SECRET, logger, resend: { apiKey: 're_x' }, worker: { pollIntervalMs: 50 } });
      served.track(sync);
      const running = await sync.startWorker();
      await sync.drain();
      await running.stop();
      const notes = lines.map((l) => l.msg).filter((m: string) => /^(email|Slack) (on|off)/.test(m));
      expect(notes).toEqual(['email off: RESEND_API_KEY is set but CLERK_SYNC_EMAIL_FROM (resend.from) is not', 'Slack off: set SLACK_WEBHOOK_URL to post sign-up messages']);
    });

    it('close() stops a running worker and returns promptly', async () => {
      const { sync } = await make();
      const running = await sync.startWorker();
      expect(running.worker?.running).toBe(true);
      const t = Date.now();
      await sync.close();
      expect(running.worker?.running).toBe(false);
      expect(Date.now() - t).toBeLessThan(2000);
    });
  });
}
