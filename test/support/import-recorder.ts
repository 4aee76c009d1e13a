/**
 * A module hook that records which third-party packages a process resolves: written into `dir`,
 * loaded with `node --import <path>`, it appends each package name to the file named by the
 * IMPORT_LOG environment variable. Shared by the light-imports test and bench/import-cost.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeImportRecorder(dir: string): string {
  const path = join(dir, 'record-imports.mjs');
  writeFileSync(
    path,
    `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`import { appendFileSync } from 'node:fs';
export async function resolve(s, c, n) { const r = await n(s, c); const m = /node_modules\\\\/((?:@[^/]+\\\\/)?[^/]+)/.exec(r.url); if (m) appendFileSync(process.env.IMPORT_LOG, m[1] + '\\\\n'); return r; }\`));`,
  );
  return path;
}
