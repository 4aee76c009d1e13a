/**
 * Logs carry ids, types, statuses and timings, never personal data or secrets. The user.created
 * fixture, filled with addresses, names and phone numbers, goes through intake (valid, duplicate,
 * badly signed, malformed), the worker's apply, the admin (failed and good logins, a reveal) and a
 * rate-limited backfill, with a pino logger at `trace` writing into a buffer that is then scanned.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainEvents } from '../../src/apply/drain.js';
import { createLogger } from '../../src/core/logger.js';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { signedHeaders } from '../../src/verify/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeClerkApi, type FakeClerkApi } from '../support/fake-clerk-api.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ADMIN_TOKEN = 'admin-token-for-the-log-test-0123';
const fixture = JSON.parse(readFileSync(new URL('../../src/clerk/examples/user.created.json', import.meta.url), 'utf8'));
const PERSONAL = {
  email: 'grace.hopper@navy.example',
  email2: 'amazing.grace@cobol.example',
  first: 'Gracewilliam',
  last: 'Hopperfield',
  username: 'ghopper1906',
  phone: '+15555550199',
  ip: '198.51.100.77',
};

function personalEvent() {
  const event = structuredClone(fixture);
  event.timestamp = Date.now();
  event.event_attributes.http_request = { client_ip: PERSONAL.ip, user_agent: 'Mozilla/5.0 (X11; Linux) Grace' };
  Object.assign(event.data, {
    first_name: PERSONAL.first,
    last_name: PERSONAL.last,
    username: PERSONAL.username,
    email_addresses: [
      { id: 'idn_1', object: 'email_address', email_address: PERSONAL.email, linked_to: [], verification: { status: 'verified' } },
      { id: 'idn_2', object: 'email_address', email_address: PERSONAL.email2, linked_to: [], verification: { status: 'verified' } },
    ],
    primary_email_address_id: 'idn_1',
    phone_numbers: [{ id: 'idn_3', object: 'phone_number', phone_number: PERSONAL.phone, linked_to: [] }],
    updated_at: Date.now(),
  });
  return event;
}

for (const backend of backends) {
  describe(`logs (${backend.name})`, () => {
    let database: TestDatabase;
    let sync: ClerkSync;
    let fake: FakeClerkApi;
    let output = '';
    const signatures: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });

    beforeAll(async () => {
      database = await backend.create();
      fake = await startFakeClerkApi({ secretKey: 'sk_test_log_scan_secret_key_123' });
      fake.addUser({ email: PERSONAL.email, first_name: PERSONAL.first, last_name: PERSONAL.last, username: PERSONAL.username } as never);
      sync = createClerkSync({
        db: database.db,
        secret: SECRET,
        adminToken: ADMIN_TOKEN,
        clerkSecretKey: fake.secretKey,
        clerkApiUrl: fake.url,
        clerkApiRequestsPerSecond: 1000,
        logger: createLogger('trace', stream),
      });
    });
    afterAll(async () => {
      await fake.close();
      await database.drop();
    });

    it('never writes personal fields, secrets or signatures', async () => {
      const body = JSON.stringify(personalEvent());
      const deliver = async (id: string, text: string, secret = SECRET) => {
        const headers = signedHeaders({ id, timestamp: Math.floor(Date.now() / 1000), body: text, secret });
        signatures.push(headers['svix-signature']!);
        return (await sync.handleWebhook(new Request('http://localhost/api/webhooks/clerk', { method: 'POST', headers, body: text }))).status;
      };
      expect(await deliver('msg_log_1', body)).toBe(200);
      expect(await deliver('msg_log_1', body)).toBe(200);
      expect(await deliver('msg_log_1', body.replace(PERSONAL.first, 'Other'))).toBe(200);
      expect(await deliver('msg_log_2', body, 'whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXk=')).toBe(400);
      expect(await deliver('msg_log_3', `{"type":"user.created","data":"${PERSONAL.email}"}`)).toBe(400);
      expect(await deliver('msg_log_4', `not json ${PERSONAL.email} ${PERSONAL.phone}`)).toBe(400);
      // A payload the projection refuses: dead at once, with its error logged.
      expect(await deliver('msg_log_5', JSON.stringify({ type: 'user.updated', data: { object: 'user', email_addresses: [{ email_address: PERSONAL.email }] } }))).toBe(200);

      await drainEvents({
        db: database.db,
        schema: 'clerk',
        logger: sync.logger,
        context: { schema: 'clerk', deleteMode: 'soft' },
        effects: { welcomeEmail: true, adminWelcomeEmail: true, slackSignup: true, emailRelay: false },
        retry: { maxAttempts: 1, retryBaseMs: 10, retryMaxMs: 100 },
      });

      const admin = (path: string, init: RequestInit = {}) => sync.handleAdmin(new Request(`http://localhost${path}`, init));
      expect((await admin('/admin/login', { method: 'POST', body: new URLSearchParams({ token: 'wrong-token-guess-000' }) })).status).toBe(401);
      const login = await admin('/admin/login', { method: 'POST', body: new URLSearchParams({ token: ADMIN_TOKEN }) });
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      expect((await admin('/admin/events/msg_log_1?reveal=1', { headers: { cookie } })).status).toBe(200);

      fake.rateLimit({ every: 3, retryAfterSeconds: 0 });
      await sync.backfill({ resources: ['users'] });
      await sync.ensureUser(fake.users[0]!.id);

      expect(output).toContain('webhook delivery');
      expect(output).toContain('admin revealed personal fields');
      expect(output).toContain('rate limit');
      const forbidden = [
        ...Object.values(PERSONAL),
        SECRET,
        SECRET.slice('whsec_'.length),
        ADMIN_TOKEN,
        fake.secretKey,
        ...signatures,
        ...signatures.map((s) => s.slice(3)),
        'Mozilla',
      ];
      for (const value of forbidden) expect(output, `log output contains ${value}`).not.toContain(value);
    });
  });
}
