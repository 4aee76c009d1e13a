/**
 * The admin page end to end in a real headless Chromium, on every database backend: log in,
 * filter the event log, open an event (personal fields masked, then revealed), replay a dead
 * letter and see it applied, look a user up by email, and the outbox. Screenshots go to
 * test-artifacts/admin-<backend>-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hooks } from '../../src/projections/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { chromiumAvailable, launchBrowser, type TestBrowser } from '../support/browser.js';
import { deliver, drain, membershipEvent, organizationEvent, startAdmin, TOKEN, userEvent, type AdminServer } from './support.js';

for (const backend of backends) {
  describe.skipIf(!chromiumAvailable)(`admin page in Chromium (${backend.name})`, () => {
    let database: TestDatabase;
    let admin: AdminServer;
    let browser: TestBrowser;
    let deadId: string;
    let hookBroken = true;
    const hooks = new Hooks().on('user.updated', () => {
      if (hookBroken) throw new Error('relation "app_profiles" does not exist');
    });
    const shot = (name: string) => browser.screenshot(`admin-${backend.name}-${name}`);

    beforeAll(async () => {
      database = await backend.create();
      admin = await startAdmin(database.db);
      const now = Date.now();
      for (let i = 0; i < 12; i++) await deliver(admin.url, userEvent('user.created', `user_${String(i).padStart(3, '0')}`, { first_name: `Person${i}` }, now - (12 - i) * 60_000));
      await deliver(admin.url, organizationEvent('org_acme', 'Acme'));
      await deliver(admin.url, { type: 'role.created', object: 'event', timestamp: now, data: { object: 'role', id: 'role_admin', key: 'org:admin', name: 'Admin', description: 'Everything', permissions: [{ object: 'permission', id: 'perm_1', key: 'org:billing:manage', name: 'Billing' }, { object: 'permission', id: 'perm_2', key: 'org:posts:read', name: 'Read posts' }], created_at: now, updated_at: now } });
      await deliver(admin.url, membershipEvent('orgmem_1', 'org_acme', 'user_000', 'org:admin'));
      await deliver(admin.url, { type: 'session.created', object: 'event', timestamp: now, data: { object: 'session', id: 'sess_1', user_id: 'user_000', status: 'active', created_at: now, updated_at: now } });
      await drain(database.db, hooks);
      // Spread the sign-ups over the last hour, as a real log would be, so the chart has bars.
      await database.db.query(`update clerk.webhook_events set received_at = now() - make_interval(mins => (12 - right(payload->'data'->>'id', 3)::int) * 4) where type = 'user.created'`);
      deadId = await deliver(admin.url, userEvent('user.updated', 'user_000', { first_name: 'Augusta' }, now + 1000));
      await drain(database.db, hooks);
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
      await admin?.close();
      await database?.drop();
    });

    it('shows a login form (401) and refuses a wrong token', async () => {
      const { page } = browser;
      const response = await page.goto(`${admin.url}/admin/events`);
      expect(response?.status()).toBe(401);
      await page.fill('#token', 'not-the-token-at-all');
      await page.click('button[type=submit]');
      await expect(page.locator('.notice.error').textContent()).resolves.toContain('not the admin token');
      await shot('1-login-refused');
      await page.fill('#token', TOKEN);
      await Promise.all([page.waitForURL(`${admin.url}/admin`), page.click('button[type=submit]')]);
      const cookies = await browser.context.cookies();
      const session = cookies.find((c) => c.name === 'clerk_sync_admin');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });
      await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
      expect(await page.locator('.card.bad .value').first().textContent()).toBe('1');
      expect(await page.locator('.chart svg rect').count()).toBeGreaterThan(3);
      await shot('2-overview');
    });

    it('filters the event log by type and status', async () => {
      const { page } = browser;
      await page.goto(`${admin.url}/admin/events`);
      expect(await page.locator('table.events tbody tr').count()).toBe(17);
      await page.fill('input[name=type]', 'user.created');
      await page.selectOption('select[name=status]', 'applied');
      await Promise.all([page.waitForURL(/type=user\.created/), page.click('form.filters button[type=submit]')]);
      const rows = page.locator('table.events tbody tr');
      expect(await rows.count()).toBe(12);
      expect(new Set(await rows.locator('td:nth-child(2)').allTextContents())).toEqual(new Set(['user.created']));
      await shot('3-events-filtered');
      await page.selectOption('select[name=status]', 'dead');
      await page.fill('input[name=type]', '');
      await Promise.all([page.waitForURL(/status=dead/), page.click('form.filters button[type=submit]')]);
      expect(await rows.count()).toBe(1);
    });

    it('opens an event with personal fields masked until asked', async () => {
      const { page } = browser;
      await page.goto(`${admin.url}/admin/events?type=user.created`);
      await Promise.all([page.waitForURL(/\/admin\/events\/msg_/), page.locator('table.events tbody tr a.mono').first().click()]);
      const masked = await page.locator('#payload').textContent();
      expect(masked).toContain('"id": "user_011"');
      expect(masked).not.toContain('@example.com');
      expect(masked).not.toContain('Lovelace');
      expect(masked).not.toContain('+15555550100');
      expect(masked).not.toContain('203.0.113.9');
      expect(masked).toContain('"plan": "••••••"');
      await shot('4-event-masked');
      await Promise.all([page.waitForURL(/reveal=1/), page.click('text=Show personal fields')]);
      const revealed = await page.locator('#payload').textContent();
      expect(revealed).toContain('user_011@example.com');
      expect(revealed).toContain('Lovelace');
    });

    it('replays a dead letter, and after the fix it is applied', async () => {
      const { page } = browser;
      await page.goto(`${admin.url}/admin/dead`);
      const row = page.locator(`tr[data-id="${deadId}"]`);
      expect(await row.locator('.badge.b-dead').count()).toBe(1);
      expect(await row.textContent()).toContain('app_profiles');
      await shot('5-dead-letters');
      hookBroken = false;
      await Promise.all([page.waitForURL(/notice=replayed/), row.locator('button[data-replay]').click()]);
      await expect(page.locator('.notice').textContent()).resolves.toContain('pending again');
      expect(await page.locator('h1 .badge').textContent()).toBe('pending');
      const drained = await drain(database.db, hooks);
      expect(drained.applied).toBe(1);
      await page.goto(page.url().split('?')[0]!);
      expect(await page.locator('h1 .badge').textContent()).toBe('applied');
      await shot('6-replayed-applied');
      const user = await database.db.query<{ first_name: string }>('select first_name from clerk.users where id = $1', ['user_000']);
      expect(user.rows[0]!.first_name).toBe('Augusta');
    });

    it('looks a user up by email: row, memberships, roles, permissions and events', async () => {
      const { page } = browser;
      await page.goto(`${admin.url}/admin/lookup`);
      await page.fill('input[name=q]', 'USER_000@example.com');
      await Promise.all([page.waitForURL(/lookup\?q=/), page.click('form.filters button[type=submit]')]);
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).toContain('user_000');
      expect(text).toContain('org_acme');
      expect(text).toContain('org:admin');
      expect(text).toContain('org:posts:read');
      // The synced role's current permissions (user_permissions view).
      expect(text).toContain('org:billing:manage');
      expect(await page.locator('table.events tbody tr').count()).toBeGreaterThanOrEqual(3);
      await shot('7-lookup');
      await page.goto(`${admin.url}/admin/outbox`);
      expect(await page.locator('h1').textContent()).toContain('Outbox');
      expect(await page.locator('table tbody tr').count()).toBe(12);
      await shot('8-outbox');
    });
  });
}
