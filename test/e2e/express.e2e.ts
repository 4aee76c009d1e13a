/**
 * examples/express end to end: build it, start it on loopback against a fresh Postgres database,
 * deliver the story's signed events (then shuffled redeliveries), and check the ABAC-protected
 * report endpoint and the raw-body verification behind a global express.json().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningSecret, signEvent } from '../../src/testing/index.js';
import { story } from './support/events.js';
import { createDatabase, deliver, exampleDir, freePort, repoRoot, resolveFromExample, run, startApp, type E2eDatabase, type RunningApp } from './support/harness.js';
import { deliverStory } from './support/scenario.js';

const cwd = exampleDir('express');
const secret = generateSigningSecret();
let db: E2eDatabase;
let app: RunningApp;
let webhookUrl: string;

beforeAll(async () => {
  if (!process.env.E2E_SKIP_BUILD) {
    const ms = await run('npm', ['run', 'build'], { cwd, log: 'e2e-express-build.log' });
    console.log(`express: npm run build ${ms} ms`);
  }
  db = await createDatabase();
  const port = await freePort();
  app = await startApp({
    name: 'express',
    cwd,
    command: process.execPath,
    args: ['dist/server.js'],
    port,
    readyPath: '/healthz',
    env: { PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: db.url, APP_DATABASE_URL: db.appUrl, CLERK_WEBHOOK_SIGNING_SECRET: secret, CLERK_SYNC_LOG_LEVEL: 'warn', NODE_ENV: 'production' },
  });
  webhookUrl = `${app.baseUrl}/api/webhooks/clerk`;
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

const reports = (orgId: string, userId?: string) =>
  fetch(`${app.baseUrl}/orgs/${orgId}/reports`, { headers: userId ? { 'x-user-id': userId } : {} });

describe('examples/express', () => {
  it('imports clerk-sync and clerk-sync/express from the built dist/', async () => {
    const resolved = await resolveFromExample(cwd, ['clerk-sync', 'clerk-sync/express']);
    expect(resolved).toEqual([`file://${repoRoot}dist/index.js`, `file://${repoRoot}dist/adapters/express.js`]);
  });

  it('answers 403, not 500, on a fresh database before any webhook created the tables', async () => {
    expect((await reports(story.acme.id, story.users.ada.id)).status).toBe(403);
  });

  it('stores and applies one event of every type, and answers the shuffled redeliveries as duplicates', async () => {
    const result = await deliverStory(webhookUrl, secret, db);
    console.log(
      `express: ${result.events.length} events in ${result.firstPassMs} ms, ${result.redelivered} redeliveries in ${result.redeliveryMs} ms (E2E_SEED=${result.seed})`,
    );
  });

  it('serves the report only to live members holding org:reports:read', async () => {
    const { ada, bob, cara, dan, eve } = story.users;

    expect((await reports(story.acme.id)).status).toBe(401);

    const asAda = await reports(story.acme.id, ada.id);
    expect(asAda.status).toBe(200);
    expect(await asAda.json()).toEqual({
      organizationId: story.acme.id,
      members: [
        { id: ada.id, name: 'Ada Lovelace', email: ada.email, role: 'org:admin' },
        { id: bob.id, name: 'Bob Stone', email: bob.email, role: 'org:analyst' },
        { id: cara.id, name: 'Cara Diaz', email: cara.email, role: 'org:member' },
      ],
      membersByRole: { 'org:admin': 1, 'org:analyst': 1, 'org:member': 1 },
      pendingInvitations: story.pendingAcmeInvitations,
    });

    // Bob's membership lists no permissions: org:reports:read comes from the org:analyst role.
    expect((await reports(story.acme.id, bob.id)).status).toBe(200);

    // Cara's role changed to org:member, Dan's account is deleted, Eve left, and a stranger is a stranger.
    for (const userId of [cara.id, dan.id, eve.id, 'user_unknown']) {
      const response = await reports(story.acme.id, userId);
      expect(response.status, userId).toBe(403);
      expect(await response.json()).toEqual({ error: 'forbidden', permission: story.reportsPermission });
    }

    // Ada was an admin of Old Co, which is deleted.
    expect((await reports(story.oldCo.id, ada.id)).status).toBe(403);
  });

  it("keeps another organization's notes invisible and unwritable: row-level security as the app role", async () => {
    const { ada } = story.users;
    const globex = { id: 'org_e2eGlobex', name: 'Globex' };
    const gus = 'user_e2eGus';
    const now = Date.now();
    // A second tenant: Gus writes notes in Globex (his membership's own permission; org:member has no role.* event).
    for (const [svixId, type, data] of [
      ['msg_e2eGlobex', 'organization.created', { object: 'organization', id: globex.id, name: globex.name, slug: 'globex', created_at: now, updated_at: now }],
      ['msg_e2eGus', 'user.created', { object: 'user', id: gus, first_name: 'Gus', last_name: 'Globex', email_addresses: [], created_at: now, updated_at: now }],
      ['msg_e2eGusMember', 'organizationMembership.created', { object: 'organization_membership', id: 'orgmem_e2eGus', role: 'org:member', permissions: ['org:notes:write'], organization: { id: globex.id }, public_user_data: { user_id: gus }, created_at: now, updated_at: now }],
    ] as const) {
      const answer = await deliver(webhookUrl, secret, { svixId, type, body: JSON.stringify({ type, object: 'event', timestamp: now, data }) });
      expect(answer.status).toBe(200);
    }
    // The table's owner seeds a note in each tenant (the owner is not subject to the policies).
    await db.query(`insert into notes (id, organization_id, body) values ('note_acme', $1, 'Acme plans'), ('note_globex', $2, 'Globex secrets')`, [story.acme.id, globex.id]);

    const get = async (path: string, userId?: string) => {
      const response = await fetch(`${app.baseUrl}${path}`, { headers: userId ? { 'x-user-id': userId } : {} });
      return { status: response.status, body: (await response.json()) as { notes?: Array<{ id: string }> } };
    };
    const ids = (r: { body: { notes?: Array<{ id: string }> } }) => r.body.notes?.map((n) => n.id);
    // No where clause in /notes: Postgres alone keeps each caller to their organizations.
    expect(ids(await get('/notes', ada.id))).toEqual(['note_acme']);
    expect(ids(await get('/notes', gus))).toEqual(['note_globex']);
    expect(ids(await get('/notes', 'user_unknown'))).toEqual([]);
    expect(ids(await get('/notes', story.users.dan.id))).toEqual([]); // deleted user
    expect(ids(await get(`/orgs/${globex.id}/notes`, ada.id))).toEqual([]);
    expect((await get('/notes')).status).toBe(401);

    const post = (orgId: string, userId: string, body: unknown) =>
      fetch(`${app.baseUrl}/orgs/${orgId}/notes`, { method: 'POST', headers: { 'x-user-id': userId, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post(story.acme.id, gus, { body: 'sneaky' })).status).toBe(403);
    expect((await post(globex.id, ada.id, { body: 'sneaky' })).status).toBe(403);
    expect((await post(globex.id, gus, {})).status).toBe(400);
    const created = await post(globex.id, gus, { body: 'Q3 numbers' });
    expect(created.status).toBe(201);
    expect(await db.query('select organization_id, body from notes order by id')).toEqual(
      expect.arrayContaining([{ organization_id: globex.id, body: 'Q3 numbers' }]),
    );
    expect(await db.query(`select count(*)::int as n from notes where body = 'sneaky'`)).toEqual([{ n: 0 }]);
  });

  it('verifies the exact bytes Svix signed although express.json() parsed the body first', async () => {
    // Pretty-printed, with a non-ASCII name escaped: no re-serialisation of the parsed object
    // gives these bytes back, so only the raw body can match the signature.
    const event = {
      type: 'user.created',
      object: 'event',
      timestamp: Date.now(),
      data: { object: 'user', id: 'user_e2eZoe', first_name: 'Zoë', last_name: 'Raw', email_addresses: [], created_at: Date.now(), updated_at: Date.now() },
    };
    const body = JSON.stringify(event, null, 2).replace('Zoë', 'Zo\\u00eb');
    expect(JSON.stringify(JSON.parse(body))).not.toBe(body);

    const answer = await deliver(webhookUrl, secret, { svixId: 'msg_e2eRawBytes', type: event.type, body });
    expect(answer).toMatchObject({ status: 200, body: { received: true } });
    expect(await db.query('select first_name from clerk.users where id = $1', ['user_e2eZoe'])).toEqual([{ first_name: 'Zoë' }]);
  });

  it('refuses a body that differs from what was signed, and other methods', async () => {
    const signed = signEvent({ secret, event: { type: 'user.updated', data: { id: story.users.ada.id, first_name: 'Ada' } } });
    const tampered = signed.body.replace('"Ada"', '"Mallory"');
    const response = await fetch(webhookUrl, { method: 'POST', headers: { ...signed.headers, 'content-type': 'application/json' }, body: tampered });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_signature' } });

    const get = await fetch(webhookUrl);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});
