/**
 * Wrong admin tokens are throttled per client address, found by the webhook path's rules (the
 * peer unless a proxy header is configured): a forged X-Forwarded-For buys no fresh budget,
 * bearer guesses count like login guesses, one address's guesses leave another alone, and the
 * right token is never refused.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, type TestDatabase } from '../support/databases.js';
import { startAdmin, TOKEN, type AdminServer } from './support.js';

function send(url: string, from: string, init: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: init.path, method: init.method ?? 'GET', localAddress: from, headers: { ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...init.headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

const login = (url: string, from: string, token: string, headers: Record<string, string> = {}) =>
  send(url, from, { method: 'POST', path: '/admin/login', body: new URLSearchParams({ token }).toString(), headers });

describe('admin token throttle', () => {
  let database: TestDatabase;
  let admin: AdminServer;
  beforeAll(async () => {
    database = await backends[0]!.create();
    admin = await startAdmin(database.db);
  });
  afterAll(async () => {
    await admin.close();
    await database.drop();
  });

  it('limits wrong logins per address; rotating X-Forwarded-For does not reset it; the right token always gets in', async () => {
    const from = '127.0.0.2';
    for (let i = 0; i < 10; i++) expect(await login(admin.url, from, `wrong-${i}`, { 'x-forwarded-for': `10.0.0.${i}` })).toBe(401);
    expect(await login(admin.url, from, 'wrong-again', { 'x-forwarded-for': '10.9.9.9' })).toBe(429);
    expect(await login(admin.url, from, TOKEN)).toBe(303);
    // Another address has its own budget.
    expect(await login(admin.url, '127.0.0.3', 'wrong')).toBe(401);
  });

  it('counts wrong bearer tokens on the API like wrong logins, and never refuses the right one', async () => {
    const from = '127.0.0.4';
    for (let i = 0; i < 10; i++) expect(await send(admin.url, from, { path: '/admin/api/stats', headers: { authorization: `Bearer wrong-${i}` } })).toBe(401);
    expect(await send(admin.url, from, { path: '/admin/api/stats', headers: { authorization: 'Bearer wrong-again' } })).toBe(429);
    expect(await login(admin.url, from, 'wrong-login')).toBe(429);
    expect(await send(admin.url, from, { path: '/admin/api/stats', headers: { authorization: `Bearer ${TOKEN}` } })).toBe(200);
  });
});
