/**
 * Keeps the reference docs in step with the code: every error code, environment variable and
 * table the code knows must be documented.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/core/config.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import * as schema from '../../src/db/schema/index.js';

const docsDir = new URL('../../docs/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, docsDir), 'utf8');
const allDocs = () => {
  const files: string[] = [];
  const walk = (dir: URL) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(new URL(`${entry.name}/`, dir));
      else if (entry.name.endsWith('.md')) files.push(readFileSync(new URL(entry.name, dir), 'utf8'));
    }
  };
  walk(docsDir);
  return files.join('\n');
};

describe('reference docs', () => {
  it('list every error code in docs/reference/http.md', () => {
    const doc = read('reference/http.md');
    const missing = Object.keys(ERROR_CODES).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('list every environment variable in docs/reference/configuration.md', () => {
    const doc = read('reference/configuration.md');
    const missing = ENV_VARS.filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('describe every table of the schema', () => {
    const docs = allDocs();
    const tables = (Object.values(schema) as unknown[])
      .filter((v): v is PgTable => typeof v === 'object' && v !== null && Symbol.for('drizzle:IsDrizzleTable') in v)
      .map((t) => getTableConfig(t).name);
    expect(tables.length).toBeGreaterThan(1);
    const missing = tables.filter((name) => !docs.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
