/**
 * The layout follows the data flow: each folder of src/ imports only the stages before it,
 * `core` and `db` (docs/architecture.md). This test fails when an import crosses that line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ALLOWED: Record<string, string[]> = {
  core: [],
  clerk: ['core'],
  db: ['core'],
  verify: ['core'],
  inbox: ['core', 'db'],
  receive: ['core', 'db', 'verify', 'inbox'],
  projections: ['core', 'db', 'clerk'],
  access: ['core', 'db', 'projections'],
  outbox: ['core', 'db'],
  senders: ['core'],
  apply: ['core', 'db', 'inbox', 'projections', 'outbox'],
  metrics: ['core', 'db', 'inbox', 'outbox'],
  backfill: ['core', 'db', 'clerk', 'inbox', 'projections', 'apply'],
  admin: ['core', 'db', 'receive', 'inbox', 'outbox', 'apply', 'projections', 'metrics', 'backfill'],
  service: ['core', 'db', 'clerk', 'verify', 'inbox', 'receive', 'projections', 'access', 'outbox', 'senders', 'apply', 'metrics', 'backfill', 'admin'],
  adapters: ['core', 'receive', 'service'],
  server: ['core', 'inbox', 'adapters', 'service', 'metrics'],
  // The CLI is the last stage: one command per job, each calling the stage it drives.
  cli: ['core', 'db', 'clerk', 'verify', 'inbox', 'receive', 'projections', 'access', 'outbox', 'senders', 'apply', 'metrics', 'backfill', 'admin', 'service', 'server', 'adapters'],
  testing: ['core', 'verify'],
};

const src = new URL('../../src/', import.meta.url);

function filesOf(dir: URL): URL[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesOf(new URL(`${e.name}/`, dir)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [new URL(e.name, dir)] : [],
  );
}

describe('import boundaries', () => {
  const folders = readdirSync(src, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

  it('every folder of src/ has a rule', () => {
    expect(folders.filter((f) => !(f in ALLOWED))).toEqual([]);
  });

  for (const folder of folders) {
    it(`${folder}/ imports only ${ALLOWED[folder]?.join(', ') || 'nothing internal'}`, () => {
      const violations: string[] = [];
      for (const file of filesOf(new URL(`${folder}/`, src))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/from '((?:\.\.?\/)+[^']+)'/g)) {
          const target = new URL(m[1]!, file).pathname.slice(src.pathname.length).split('/')[0]!;
          if (target === folder || target.endsWith('.js')) continue;
          if (!(ALLOWED[folder] ?? []).includes(target)) violations.push(`${file.pathname.slice(src.pathname.length)} → ${target}`);
        }
      }
      expect(violations).toEqual([]);
    });
  }
});
