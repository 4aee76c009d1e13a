/**
 * The end-to-end suite: builds the examples, starts them as real processes on loopback and
 * drives them over HTTP (and Chromium for Next.js). Kept out of `npm test` (whose config
 * includes only *.test.ts) because it installs nothing but builds a Next.js app; CI runs it as
 * its own step:  npx vitest run --config test/e2e/vitest.e2e.config.ts
 *
 * Needs `npm ci` in each examples/* folder first, Postgres at TEST_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres; each test file creates and drops its own
 * database) and Chromium at CHROMIUM_PATH (default /usr/bin/chromium). E2E_SKIP_BUILD=1 reuses
 * the examples' last build; E2E_SEED=<n> replays a redelivery order. Logs and screenshots go to
 * test-artifacts/.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/e2e/**/*.e2e.ts'],
    testTimeout: 120_000,
    // beforeAll builds the example (next build takes most of a minute on two cores).
    hookTimeout: 300_000,
    pool: 'forks',
    // One example at a time: two builds and two servers at once would fight over the cores.
    fileParallelism: false,
  },
});
