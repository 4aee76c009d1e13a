/**
 * The published package holds only what users need: the build, the README, the docs, the license
 * and package.json; no tests, sources or local data. Checked on `npm pack --dry-run` when a build
 * exists (`npm run build`); lifecycle scripts are skipped so the check never rebuilds.
 * @see issue #7
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support.js';

const built = existsSync(`${ROOT}/dist/index.js`);

describe.skipIf(!built)('npm pack (needs `npm run build`)', () => {
  const pack = () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const [info] = JSON.parse(out) as Array<{ files: Array<{ path: string }>; size: number }>;
    return { paths: info!.files.map((f) => f.path), size: info!.size };
  };

  it('contains only dist/, docs/, README, LICENSE and package.json', () => {
    const { paths } = pack();
    const allowed = (p: string) => p.startsWith('dist/') || p.startsWith('docs/') || /^(README|LICENSE|LICENCE)(\.md|\.txt)?$/i.test(p) || p === 'package.json';
    expect(paths.filter((p) => !allowed(p))).toEqual([]);
    expect(paths).toContain('package.json');
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/cli/index.js');
  });

  it('has no tests, TypeScript sources, source maps or local data', () => {
    const { paths } = pack();
    const unwanted = paths.filter(
      (p) => /(^|\/)(test|tests|__tests__)\//.test(p) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(p) || (/\.[cm]?ts$/.test(p) && !/\.d\.[cm]?ts$/.test(p)) || /\.map$/.test(p) || /(^|\/)\.(env|clerk-sync)/.test(p),
    );
    expect(unwanted).toEqual([]);
  });
});
