/**
 * The edge where environment variables become options (the CLI is, with the server entry, the
 * only code that reads `process.env`), and dev mode's local secret.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { optionsFromEnv, type ClerkSyncOptions } from '../core/config.js';
import { generateSigningSecret } from '../verify/index.js';

import type { Env } from '../core/env.js';

export type { Env };

export const SECRET_HELP =
  'Set CLERK_WEBHOOK_SIGNING_SECRET to the signing secret of your endpoint: Clerk Dashboard → Configure → Webhooks → ' +
  'select the endpoint → "Signing Secret" (it starts with whsec_). Several secrets (rotation) may be given separated by spaces or commas.';

export function isProduction(env: Env, flag: boolean | undefined): boolean {
  return flag === true || env.NODE_ENV === 'production';
}

export function devSecretPath(dataDir: string): string {
  return join(dataDir, 'webhook-secret');
}

/** Dev mode: the secret kept in the data folder, created on first run. */
export function loadOrCreateDevSecret(dataDir: string): { secret: string; created: boolean } {
  const path = devSecretPath(dataDir);
  if (existsSync(path)) return { secret: readFileSync(path, 'utf8').trim(), created: false };
  mkdirSync(dataDir, { recursive: true });
  const secret = generateSigningSecret();
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return { secret, created: true };
}

export function baseOptions(env: Env): ClerkSyncOptions & { dataDir: string } {
  const options = optionsFromEnv(env);
  return { ...options, dataDir: options.dataDir ?? './.clerk-sync' };
}

/** The secret to sign test events with: the configured one, else dev mode's. */
export function signingSecretFor(env: Env): string | undefined {
  const options = baseOptions(env);
  if (typeof options.secret === 'string') return options.secret.split(/[\s,]+/).find(Boolean);
  const path = devSecretPath(options.dataDir);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
