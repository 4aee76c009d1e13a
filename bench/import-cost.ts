/**
 * What importing each entry point costs a cold process: time from the first `import()` to a
 * constructed route or handler, resident memory after it, and the third-party packages loaded.
 * Each measurement is a fresh `node` running the built package (`npm run build` first), several
 * times; medians are printed. A bare `node` is the first row.
 *
 *   npm run build && node --import tsx bench/import-cost.ts [--runs 7]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeImportRecorder } from '../test/support/import-recorder.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const RUNS = Number(values.runs);
const dist = new URL('../dist/', import.meta.url).pathname;
if (!existsSync(join(dist, 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');

const SECRET = `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`;
const CASES: Array<{ name: string; code: string }> = [
  { name: 'bare node', code: '' },
  { name: 'clerk-sync/next (Postgres)', code: `const { createNextRoute } = await import('${dist}adapters/next.js'); createNextRoute({ databaseUrl: 'postgres://localhost/app', secret: '${SECRET}' });` },
  { name: 'clerk-sync/express', code: `await import('${dist}adapters/express.js');` },
  { name: 'clerk-sync/rls', code: `await import('${dist}access/rls.js');` },
  { name: 'clerk-sync (root)', code: `await import('${dist}index.js');` },
];

const work = mkdtempSync(join(os.tmpdir(), 'clerk-sync-import-'));
const hook = writeImportRecorder(work);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`import cost: median of ${RUNS} cold processes each; Node ${process.version}; ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| entry | ms to import and construct | resident MB | third-party packages loaded |');
console.log('| --- | ---: | ---: | --- |');
try {
  for (const c of CASES) {
    const script = join(work, 'case.mjs');
    writeFileSync(script, `const t = performance.now(); ${c.code} console.log(JSON.stringify({ ms: performance.now() - t, rss: process.memoryUsage().rss }));`);
    const ms: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const out = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' })) as { ms: number; rss: number };
      ms.push(out.ms);
      rss.push(out.rss / 1048576);
    }
    const log = join(work, 'packages.log');
    rmSync(log, { force: true });
    execFileSync(process.execPath, ['--import', hook, script], { env: { ...process.env, IMPORT_LOG: log } });
    const packages = existsSync(log) ? [...new Set(readFileSync(log, 'utf8').trim().split('\n'))].sort().join(', ') : '';
    console.log(`| ${c.name} | ${median(ms).toFixed(0)} | ${median(rss).toFixed(0)} | ${packages || '—'} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
