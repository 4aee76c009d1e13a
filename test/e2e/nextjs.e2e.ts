/**
 * examples/nextjs end to end: `next build`, `next start` on loopback against a fresh Postgres
 * database, the story's signed events delivered to app/api/webhooks/clerk (then shuffled
 * redeliveries), and the pages checked in headless Chromium: the organization list, the members
 * with their roles, the report action that can() allows or refuses, and the notes page, whose
 * query has no where clause, showing each user only their organizations' rows (row-level security).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningSecret } from '../../src/testing/index.js';
import { story } from './support/events.js';
import { artifactsDir, createDatabase, deliver, exampleDir, freePort, repoRoot, resolveFromExample, run, startApp, type E2eDatabase, type RunningApp } from './support/harness.js';
import { deliverStory } from './support/scenario.js';

const cwd = exampleDir('nextjs');
const secret = generateSigningSecret();
const cronSecret = 'e2e-cron-secret';
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let db: E2eDatabase;
let app: RunningApp;
let browser: BrowserContext | undefined;
let profileDir: string | undefined;

beforeAll(async () => {
  const env = { NEXT_TELEMETRY_DISABLED: '1' };
  if (!process.env.E2E_SKIP_BUILD) {
    const ms = await run('npm', ['run', 'build'], { cwd, log: 'e2e-nextjs-build.log', env });
    console.log(`nextjs: next build ${ms} ms`);
  }
  db = await createDatabase();
  const port = await freePort();
  app = await startApp({
    name: 'nextjs',
    cwd,
    command: process.execPath,
    args: ['node_modules/next/dist/bin/next', 'start', '--port', String(port), '--hostname', '127.0.0.1'],
    port,
    // The webhook route answers 405 to GET without touching the database: a cheap liveness probe.
    readyPath: '/api/webhooks/clerk',
    env: { ...env, DATABASE_URL: db.url, APP_DATABASE_URL: db.appUrl, CLERK_WEBHOOK_SIGNING_SECRET: secret, CRON_SECRET: cronSecret, CLERK_SYNC_LOG_LEVEL: 'warn', NODE_ENV: 'production' },
  });
});

afterAll(async () => {
  await browser?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  await app?.stop();
  await db?.drop();
});

async function openBrowser(): Promise<Page> {
  profileDir = mkdtempSync(join(tmpdir(), 'clerk-sync-e2e-chromium-'));
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 900 },
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  // Everything the page loads comes from the app on loopback; anything else is a bug here.
  await page.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => route.abort());
  page.setDefaultTimeout(20_000);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: `${artifactsDir}nextjs-${name}.png`, fullPage: true });

describe('examples/nextjs', () => {
  it('imports clerk-sync/next and clerk-sync/schema from the built dist/', async () => {
    const resolved = await resolveFromExample(cwd, ['clerk-sync', 'clerk-sync/next', 'clerk-sync/schema']);
    expect(resolved).toEqual([`file://${repoRoot}dist/index.js`, `file://${repoRoot}dist/adapters/next.js`, `file://${repoRoot}dist/db/schema.js`]);
  });

  it('renders the empty state on a fresh database, before any webhook created the tables', async () => {
    const response = await fetch(`${app.baseUrl}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Nothing synced yet');
  });

  it('stores and applies one event of every type through the route, and answers the shuffled redeliveries as duplicates', async () => {
    const result = await deliverStory(`${app.baseUrl}/api/webhooks/clerk`, secret, db);
    console.log(
      `nextjs: ${result.events.length} events in ${result.firstPassMs} ms, ${result.redelivered} redeliveries in ${result.redeliveryMs} ms (E2E_SEED=${result.seed})`,
    );
    const get = await fetch(`${app.baseUrl}/api/webhooks/clerk`);
    expect(get.status).toBe(405);
  });

  it('the cron route refuses a call without the bearer and drains with it', async () => {
    const url = `${app.baseUrl}/api/cron/clerk-sync`;
    const refused = await fetch(url);
    expect(refused.status).toBe(401);
    const drained = await fetch(url, { headers: { authorization: `Bearer ${cronSecret}` } });
    expect(drained.status).toBe(200);
    // Inline mode applied every delivery in its request: nothing was left for the drain.
    expect((await drained.json()).events).toMatchObject({ applied: 0, dead: 0, waiting: 0, deadlineReached: false });
  });

  it('shows the synced organizations, members and roles, and guards the report with can()', async () => {
    const page = await openBrowser();
    const { ada, bob, cara } = story.users;

    await page.goto(`${app.baseUrl}/`);
    const acmeRow = page.locator(`tr[data-org-id="${story.acme.id}"]`);
    await expect.poll(() => acmeRow.innerText()).toContain(story.acme.name);
    expect((await acmeRow.locator('td').nth(2).innerText()).trim()).toBe(String(story.acmeMembers.length));
    // Old Co is deleted.
    expect(await page.locator(`tr[data-org-id="${story.oldCo.id}"]`).count()).toBe(0);
    await shot(page, 'home');

    await acmeRow.getByRole('link').click();
    await page.waitForURL(`**/orgs/${story.acme.id}`);
    await expect.poll(() => page.locator('h1').innerText()).toBe(story.acme.name);
    const rows = page.locator('#members tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => [(tr as HTMLElement).dataset.userId, (tr as HTMLElement).dataset.role]))).toEqual([
      [ada.id, 'org:admin'],
      [bob.id, 'org:analyst'],
      [cara.id, 'org:member'],
    ]);
    const adaRow = page.locator(`tr[data-user-id="${ada.id}"]`);
    expect(await adaRow.innerText()).toContain('Ada Lovelace');
    expect(await adaRow.innerText()).toContain(ada.email);
    // The custom role's display name comes from clerk.roles (its latest version).
    expect(await page.locator(`tr[data-user-id="${bob.id}"]`).innerText()).toContain(story.analystRole.name);
    await shot(page, 'organization');

    // Nobody signed in: the action refuses.
    await page.locator('#generate-report').click();
    await expect.poll(() => page.locator('#report-result').getAttribute('data-status')).toBe('unauthenticated');

    // Bob holds org:reports:read through his role.
    await page.locator(`tr[data-user-id="${bob.id}"] button`).click();
    await expect.poll(() => page.locator('#signed-in-as').innerText()).toContain('Bob Stone');
    await page.locator('#generate-report').click();
    await expect.poll(() => page.locator('#report-result').getAttribute('data-status')).toBe('ok');
    expect(await page.locator('#report-result').innerText()).toContain(`${story.acmeMembers.length} active members`);
    expect(await page.locator('#report-result tr[data-role]').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.role))).toEqual([
      'org:admin',
      'org:analyst',
      'org:member',
    ]);
    await shot(page, 'report-allowed');

    // Cara was moved from org:analyst to org:member: refused.
    await page.locator(`tr[data-user-id="${cara.id}"] button`).click();
    await expect.poll(() => page.locator('#signed-in-as').innerText()).toContain('Cara Diaz');
    await page.locator('#generate-report').click();
    await expect.poll(() => page.locator('#report-result').getAttribute('data-status')).toBe('forbidden');
    expect(await page.locator('#report-result').innerText()).toContain(story.reportsPermission);
    await shot(page, 'report-forbidden');
  });

  it("shows each user only their organizations' notes: row-level security as the app role", async () => {
    const { ada } = story.users;
    const globex = 'org_e2eGlobex';
    const gus = 'user_e2eGus';
    const now = Date.now();
    for (const [svixId, type, data] of [
      ['msg_e2eGlobex', 'organization.created', { object: 'organization', id: globex, name: 'Globex', slug: 'globex', created_at: now, updated_at: now }],
      ['msg_e2eGusMember', 'organizationMembership.created', { object: 'organization_membership', id: 'orgmem_e2eGus', role: 'org:member', permissions: [], organization: { id: globex }, public_user_data: { user_id: gus }, created_at: now, updated_at: now }],
    ] as const) {
      expect((await deliver(`${app.baseUrl}/api/webhooks/clerk`, secret, { svixId, type, body: JSON.stringify({ type, object: 'event', timestamp: now, data }) })).status).toBe(200);
    }
    // The first request to /notes creates the table (as the owner); then the owner seeds a note per tenant.
    expect((await fetch(`${app.baseUrl}/notes`)).status).toBe(200);
    await db.query(`insert into notes (id, organization_id, body) values ('note_acme', $1, 'Acme plans'), ('note_globex', $2, 'Globex secrets')`, [story.acme.id, globex]);
    const visible = async (userId?: string) => {
      const html = await (await fetch(`${app.baseUrl}/notes`, { headers: userId ? { cookie: `example_user_id=${userId}` } : {} })).text();
      return [...html.matchAll(/data-note-id="([^"]+)"/g)].map((m) => m[1]);
    };
    expect(await visible(ada.id)).toEqual(['note_acme']);
    expect(await visible(gus)).toEqual(['note_globex']);
    expect(await visible(story.users.dan.id)).toEqual([]); // deleted user
    expect(await visible('user_unknown')).toEqual([]);
    expect(await visible()).toEqual([]);
  });
});
