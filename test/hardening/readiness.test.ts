/** /readyz reports what is wrong without the driver's text, which can name the database user or host. */
import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/core/db.js';
import { createClerkSync } from '../../src/service/clerk-sync.js';

const failing = (error: Error & { code?: string }): Db => ({
  kind: 'pg',
  query: () => Promise.reject(error),
  transaction: () => Promise.reject(error),
  listen: () => Promise.reject(error),
  close: async () => {},
});

describe('readiness', () => {
  it('gives the SQLSTATE, never the database error text', async () => {
    const db = failing(Object.assign(new Error('permission denied for schema clerk (role alice_prod on db-7.internal)'), { code: '42501' }));
    const readiness = await createClerkSync({ db, logger: false }).readiness();
    expect(readiness).toMatchObject({ ok: false, database: 'error', message: 'database error (SQLSTATE 42501)' });
    expect(JSON.stringify(readiness)).not.toContain('alice');
  });

  it('says unreachable for a refused connection', async () => {
    const db = failing(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432'), { code: 'ECONNREFUSED' }));
    const readiness = await createClerkSync({ db, logger: false }).readiness();
    expect(readiness).toMatchObject({ ok: false, database: 'unreachable', message: 'database unreachable' });
    expect(JSON.stringify(readiness)).not.toContain('10.0.0.7');
  });
});
