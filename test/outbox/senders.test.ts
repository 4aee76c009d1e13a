/**
 * The Resend and Slack senders against local fakes that speak the real wire formats: what goes
 * on the wire, and how each answer is classified (sent / retry / retry after / permanent).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxMessage, Sender } from '../../src/core/sender.js';
import { parseRetryAfter } from '../../src/core/sender.js';
import { idempotencyKeyFor } from '../../src/outbox/dispatcher.js';
import { createResendSenders, EMAIL_KINDS } from '../../src/senders/resend.js';
import { createSlackSender } from '../../src/senders/slack.js';
import { startFakeResend, type FakeResend } from '../support/fake-resend.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';

const signal = () => AbortSignal.timeout(2000);

function message(kind: string, key: string, payload: unknown): OutboxMessage {
  return { id: 1, kind, key, payload, eventId: 'msg_1', attempt: 1, idempotencyKey: idempotencyKeyFor(kind, key) };
}

const welcome = { to: 'jane@example.com', userId: 'user_1', firstName: 'Jane', lastName: '<Doe>', username: null };

describe('Resend sender', () => {
  let fake: FakeResend;
  let senders: Map<string, Sender>;
  beforeAll(async () => {
    fake = await startFakeResend();
    senders = new Map(createResendSenders({ apiKey: fake.apiKey, from: 'Acme <hello@acme.test>', baseUrl: fake.url }).map((s) => [s.kind, s]));
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('posts /emails with the bearer key, the idempotency key and the rendered template', async () => {
    const result = await senders.get(EMAIL_KINDS.welcome)!.send(message(EMAIL_KINDS.welcome, 'user_1', welcome), { signal: signal() });
    expect(result).toMatchObject({ ok: true });
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req.path).toBe('/emails');
    expect(req.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(req.idempotencyKey).toBe('clerk-sync:email.welcome:user_1');
    expect(req.body).toMatchObject({ from: 'Acme <hello@acme.test>', to: ['jane@example.com'], subject: 'Welcome!' });
    expect(req.body.html).toContain('Jane &lt;Doe&gt;');
    expect(req.body.text).toContain('Jane <Doe>');
  });

  it('a repeated idempotency key creates one email', async () => {
    const m = message(EMAIL_KINDS.welcome, 'user_1', welcome);
    const first = await senders.get(EMAIL_KINDS.welcome)!.send(m, { signal: signal() });
    const second = await senders.get(EMAIL_KINDS.welcome)!.send(m, { signal: signal() });
    expect(first).toEqual(second);
    expect(fake.requests).toHaveLength(2);
    expect(fake.emails).toHaveLength(1);
  });

  it('relays a Clerk email as is', async () => {
    const relay = { to: 'john@acme.com', subject: '123456 is your code', html: '<b>123456</b>', text: '123456', emailId: 'ema_1', slug: 'verification_code', userId: 'user_1' };
    expect(await senders.get(EMAIL_KINDS.relay)!.send(message(EMAIL_KINDS.relay, 'ema_1', relay), { signal: signal() })).toMatchObject({ ok: true });
    expect(fake.emails[0]).toMatchObject({ to: ['john@acme.com'], subject: '123456 is your code', html: '<b>123456</b>', text: '123456' });
  });

  it.each([
    [{ status: 429 as const, retryAfter: '3' }, { ok: false, retryable: true, retryAfterMs: 3000 }],
    [{ status: 429 as const }, { ok: false, retryable: true }],
    [{ status: 500 as const }, { ok: false, retryable: true }],
    [{ status: 503 as const }, { ok: false, retryable: true }],
    [{ status: 'html500' as const }, { ok: false, retryable: true }],
    [{ status: 'destroy' as const }, { ok: false, retryable: true }],
    [{ status: 422 as const, name: 'validation_error', message: 'Invalid `to` field.' }, { ok: false, retryable: false }],
    [{ status: 403 as const, name: 'invalid_api_key' }, { ok: false, retryable: false }],
    [{ status: 409 as const, name: 'invalid_idempotent_request' }, { ok: false, retryable: false }],
    [{ status: 409 as const, name: 'concurrent_idempotent_requests' }, { ok: false, retryable: true, retryAfterMs: 1000 }],
  ])('classifies %j', async (answer, expected) => {
    fake.failNext(answer);
    const result = await senders.get(EMAIL_KINDS.welcome)!.send(message(EMAIL_KINDS.welcome, 'user_1', welcome), { signal: signal() });
    expect(result).toMatchObject(expected);
    expect(fake.emails).toHaveLength(0);
  });

  it('a hung request is cut off by the signal and is retryable', async () => {
    fake.failNext({ status: 'hang' });
    const started = Date.now();
    const result = await senders.get(EMAIL_KINDS.welcome)!.send(message(EMAIL_KINDS.welcome, 'user_1', welcome), { signal: AbortSignal.timeout(200) });
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a wrong API key is a permanent failure, and a missing recipient never reaches Resend', async () => {
    const wrong = createResendSenders({ apiKey: 're_wrong', from: 'a@acme.test', baseUrl: fake.url })[0]!;
    expect(await wrong.send(message(wrong.kind, 'user_1', welcome), { signal: signal() })).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('invalid_api_key') });
    const noTo = await senders.get(EMAIL_KINDS.welcome)!.send(message(EMAIL_KINDS.welcome, 'user_2', { ...welcome, to: '' }), { signal: signal() });
    expect(noTo).toMatchObject({ ok: false, retryable: false });
    expect(fake.emails).toHaveLength(0);
  });

  it('user templates replace the defaults; a throwing template is permanent', async () => {
    const custom = new Map(
      createResendSenders({
        apiKey: fake.apiKey,
        from: 'a@acme.test',
        baseUrl: fake.url,
        templates: {
          welcomeEmail: (d) => ({ subject: `Hello ${d.firstName}`, html: '<p>hi</p>', text: 'hi' }),
          adminWelcomeEmail: () => {
            throw new Error('boom');
          },
        },
      }).map((s) => [s.kind, s]),
    );
    expect(await custom.get(EMAIL_KINDS.welcome)!.send(message(EMAIL_KINDS.welcome, 'user_1', welcome), { signal: signal() })).toMatchObject({ ok: true });
    expect(fake.emails[0]!.subject).toBe('Hello Jane');
    const admin = { to: 'a@b.c', userId: 'u', membershipId: 'm', organizationId: 'o', organizationName: 'Acme', role: 'org:admin', firstName: null, lastName: null };
    expect(await custom.get(EMAIL_KINDS.adminWelcome)!.send(message(EMAIL_KINDS.adminWelcome, 'm', admin), { signal: signal() })).toMatchObject({ ok: false, retryable: false, error: 'template failed: boom' });
  });
});

describe('Slack sender', () => {
  let fake: FakeSlack;
  let sender: Sender;
  const signup = { userId: 'user_1', name: 'Jane <Doe>', email: 'jane@example.com' };
  beforeAll(async () => {
    fake = await startFakeSlack();
    sender = createSlackSender({ webhookUrl: fake.url });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('posts JSON { text } and takes `ok` as success', async () => {
    expect(await sender.send(message('slack.signup', 'user_1', signup), { signal: signal() })).toEqual({ ok: true, detail: 'ok' });
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0]!.contentType).toBe('application/json');
    expect(fake.messages[0]!.body).toEqual({ text: 'New user signed up: Jane &lt;Doe&gt; (jane@example.com)' });
  });

  it.each([
    [{ status: 400 as const }, { ok: false, retryable: false, error: 'slack 400: invalid_payload' }],
    [{ status: 400 as const, text: 'cannot post to person@example.com' }, { ok: false, retryable: false, error: 'slack 400: (error body withheld)' }],
    [{ status: 403 as const }, { ok: false, retryable: false }],
    [{ status: 404 as const }, { ok: false, retryable: false, error: 'slack 404: no_service' }],
    [{ status: 410 as const }, { ok: false, retryable: false, error: 'slack 410: channel_is_archived' }],
    [{ status: 500 as const }, { ok: false, retryable: true }],
    [{ status: 429 as const, retryAfter: '2' }, { ok: false, retryable: true, retryAfterMs: 2000 }],
    [{ status: 'destroy' as const }, { ok: false, retryable: true }],
  ])('classifies %j', async (answer, expected) => {
    fake.failNext(answer);
    expect(await sender.send(message('slack.signup', 'user_1', signup), { signal: signal() })).toMatchObject(expected);
  });

  it('an unknown hook path is no_service (permanent); a hung request is retryable', async () => {
    const wrong = createSlackSender({ webhookUrl: `${new URL(fake.url).origin}/services/nope` });
    expect(await wrong.send(message('slack.signup', 'user_1', signup), { signal: signal() })).toMatchObject({ ok: false, retryable: false, error: 'slack 404: no_service' });
    fake.failNext({ status: 'hang' });
    expect(await sender.send(message('slack.signup', 'user_1', signup), { signal: AbortSignal.timeout(200) })).toMatchObject({ ok: false, retryable: true });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
