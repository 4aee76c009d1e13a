/**
 * The environment table of docs/reference/configuration.md is generated from src/core/env.ts
 * (`node --import tsx scripts/env-docs.ts`): this fails when the committed page differs, and when a
 * default the table states is not the default the options' schema applies.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/config.js';
import { ENV_TABLE, optionPaths, type EnvVar } from '../../src/core/env.js';
import { CONFIGURATION_DOC, withEnvTable } from '../../scripts/env-docs.js';

describe('environment table', () => {
  it('in docs/reference/configuration.md is the one src/core/env.ts generates (run `node --import tsx scripts/env-docs.ts`)', () => {
    const committed = readFileSync(CONFIGURATION_DOC, 'utf8');
    expect(committed).toBe(withEnvTable(committed));
  });

  it('states the defaults the options schema applies', () => {
    const defaults = resolveConfig({}) as unknown as Record<string, unknown>;
    const at = (path: string) => path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], defaults);
    let compared = 0;
    for (const variable of ENV_TABLE as readonly EnvVar[]) {
      if (variable.default === undefined) continue;
      for (const path of optionPaths(variable)) {
        const applied = at(path);
        // Some defaults are applied where the option is used (a URL of a client), not by the schema.
        if (applied === undefined) continue;
        expect(String(applied), `${variable.name} → ${path}`).toBe(variable.default);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('refuses markers that are missing', () => {
    expect(() => withEnvTable('# Configuration\n')).toThrow(/markers/);
  });
});
