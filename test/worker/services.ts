/** ClerkSync instances served over loopback for the worker tests, with signed deliveries, closed between tests. */
import type { ClerkSyncOptions } from '../../src/core/config.js';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { signedHeaders } from '../../src/verify/index.js';
import { startServer } from '../support/http.js';
import { T0 } from './events.js';

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export function delivery(id: string, type: string, data: Record<string, unknown>) {
  const body = JSON.stringify({ type, object: 'event', timestamp: T0 + 1000, instance_id: 'ins_1', data });
  return { body, headers: signedHeaders({ id, timestamp: Math.floor(T0 / 1000), body, secret: SECRET }) };
}

/** `make(options)` serves a ClerkSync built from `base()` and options; `closeAll()` stops every one made so far. */
export function services(base: () => ClerkSyncOptions) {
  let made: Array<{ sync: ClerkSync; server: { close(): Promise<void> } }> = [];
  return {
    async make(options: Partial<ClerkSyncOptions> = {}) {
      const sync = createClerkSync({
        secret: SECRET,
        logger: false,
        now: () => T0,
        worker: { pollIntervalMs: 50, retryBaseMs: 20 },
        outbox: { pollIntervalMs: 50, retryBaseMs: 20 },
        ...base(),
        ...options,
      });
      const server = await startServer(sync);
      made.push({ sync, server });
      return { sync, url: `${server.url}/webhooks/clerk` };
    },
    /** Keeps a ClerkSync made elsewhere (without a server) to close with the rest. */
    track(sync: ClerkSync) {
      made.push({ sync, server: { close: async () => {} } });
    },
    async closeAll() {
      for (const m of made) await m.server.close();
      for (const m of made) await m.sync.close();
      made = [];
    },
  };
}
