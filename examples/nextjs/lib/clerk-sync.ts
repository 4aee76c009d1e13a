/**
 * The app's one clerk-sync instance, shared by the webhook route, the pages and the server
 * actions. Kept on globalThis because Next.js may evaluate this module once per route bundle
 * (and again on every hot reload in `next dev`): one instance means one Postgres pool.
 *
 * Creating it does no I/O, so `next build` imports the route without env or database.
 */
import { createClerkSync, optionsFromEnv, type ClerkSync } from 'clerk-sync';

const shared = globalThis as typeof globalThis & { __clerkSync?: ClerkSync };

export function clerkSync(): ClerkSync {
  // Inline mode applies each verified event to clerk.users, clerk.organizations, … inside the
  // webhook request, right after the inbox commit, so no separate worker process is needed.
  shared.__clerkSync ??= createClerkSync({ ...optionsFromEnv(process.env), mode: 'inline' });
  return shared.__clerkSync;
}
