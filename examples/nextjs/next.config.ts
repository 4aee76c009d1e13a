import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // clerk-sync talks to Postgres through `pg` (and can embed PGlite): load it with Node's own
  // module loader at run time instead of bundling it into the server chunks.
  serverExternalPackages: ['clerk-sync'],
  // This example links clerk-sync from the repository (file:../..), whose real path lies above
  // the app: the build root must contain it. An app that installs clerk-sync from npm leaves
  // this out.
  turbopack: { root: fileURLToPath(new URL('../..', import.meta.url)) },
};

export default nextConfig;
