/**
 * Pay for what you use: a fresh process importing `clerk-sync/next` and constructing a route for
 * Postgres loads none of the optional parts' packages (PGlite, pg before the first request,
 * ioredis, resend, prom-client) nor the apply stage's (drizzle-orm, zod), and they load once a
 * setting or the first delivery asks for them. The import cost in milliseconds and megabytes is
 * measured by bench/import-cost.ts, not here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeImportRecorder } from '../support/import-recorder.js';

const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'clerk-sync-imports-'));
const hook = writeImportRecorder(work);
const SECRET = `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`;

function packagesLoadedBy(code: string): string[] {
  const script = join(work, `case-${Math.random().toString(36).slice(2)}.mts`);
  const log = `${script}.log`;
  // ESM imports go through the resolve hook; CommonJS requires (prom-client) are in require.cache.
  writeFileSync(
    script,
    `${code}
    const { createRequire } = await import('node:module');
    const { appendFileSync } = await import('node:fs');
    for (const file of Object.keys(createRequire(import.meta.url).cache)) {
      const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file);
      if (m) appendFileSync(process.env.IMPORT_LOG!, m[1] + '\\n');
    }`,
  );
  execFileSync(process.execPath, ['--import', 'tsx', '--import', hook, script], { cwd: root, env: { ...process.env, IMPORT_LOG: log } });
  return [...new Set(readFileSync(log, 'utf8').trim().split('\n'))].filter((p) => p !== 'tsx' && p !== 'get-tsconfig' && p !== 'esbuild' && p !== 'resolve-pkg-maps');
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('optional parts are imported when first used', () => {
  it('clerk-sync/next on Postgres loads no driver, PGlite, Redis, Resend, metrics, projection or zod package until used', () => {
    const loaded = packagesLoadedBy(`
      const { createNextRoute } = await import(${JSON.stringify(join(root, 'src/adapters/next.ts'))});
      createNextRoute({ databaseUrl: 'postgres://127.0.0.1:1/none', secret: '${SECRET}', rateLimit: { redisUrl: 'redis://127.0.0.1:1' }, resend: { apiKey: 're_test', from: 'a@example.com' } });
    `);
    // drizzle-orm and zod come with the projections, which the first delivery that applies loads;
    // the options are validated without zod.
    for (const optional of ['@electric-sql/pglite', 'pg', 'ioredis', 'resend', 'prom-client', 'drizzle-orm', 'zod']) expect(loaded, optional).not.toContain(optional);
  });

  it('loads the apply stage (drizzle-orm, zod) with the first delivery inline mode applies, not before', () => {
    const loaded = packagesLoadedBy(`
      const { createClerkSync } = await import(${JSON.stringify(join(root, 'src/service/clerk-sync.ts'))});
      const { signPayload } = await import(${JSON.stringify(join(root, 'src/verify/index.ts'))});
      const sync = createClerkSync({ secret: '${SECRET}', mode: 'inline', logger: false, dataDir: ${JSON.stringify(join(work, 'inline-data'))} });
      const { existsSync, readFileSync } = await import('node:fs');
      const early = existsSync(process.env.IMPORT_LOG) ? readFileSync(process.env.IMPORT_LOG, 'utf8').split('\\n') : [];
      if (early.includes('drizzle-orm') || early.includes('zod')) throw new Error('the apply stage was loaded at construction');
      const body = JSON.stringify({ type: 'user.created', timestamp: Date.now(), data: { id: 'user_1', object: 'user', email_addresses: [], created_at: 1, updated_at: 1 } });
      const timestamp = Math.floor(Date.now() / 1000);
      const answer = await sync.receive({ method: 'POST', body: new TextEncoder().encode(body), header: (name) => ({ 'svix-id': 'msg_1', 'svix-timestamp': String(timestamp), 'svix-signature': signPayload({ id: 'msg_1', timestamp, body, secret: '${SECRET}' }) })[name] ?? null });
      if (answer.status !== 200) throw new Error(answer.body);
      await sync.close();
    `);
    expect(loaded).toContain('drizzle-orm');
    expect(loaded).toContain('zod');
  });

  it('loads prom-client with the first use of metrics, and PGlite with the first embedded connection', () => {
    const loaded = packagesLoadedBy(`
      const { createClerkSync } = await import(${JSON.stringify(join(root, 'src/service/clerk-sync.ts'))});
      const sync = createClerkSync({ secret: '${SECRET}', logger: false });
      sync.metrics.observeDelivery({ status: 200 }, 1);
      await sync.db();
      await sync.close();
    `);
    expect(loaded).toContain('prom-client');
    expect(loaded).toContain('@electric-sql/pglite');
    expect(loaded).not.toContain('pg');
  });
});
