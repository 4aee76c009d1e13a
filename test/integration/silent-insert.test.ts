/**
 * An inbox insert that returns no row is not taken for a duplicate until the row is seen: here a
 * trigger drops the row silently (as a driver failing on a body it cannot take did on PGlite), and
 * the delivery must get 500, not a 200 that would lose it. A real duplicate still gets 200.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { signEvent } from '../../src/testing/index.js';
import { backends, type TestDatabase } from '../support/databases.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

for (const backend of backends) {
  describe(`an insert that stores nothing (${backend.name})`, () => {
    let database: TestDatabase;
    let sync: ClerkSync;
    beforeAll(async () => {
      database = await backend.create();
      sync = createClerkSync({ db: database.db, secret: SECRET, logger: false });
    });
    afterAll(async () => {
      await sync.close();
      await database.drop();
    });

    const deliver = (e: ReturnType<typeof signEvent>) =>
      sync.handleWebhook(new Request('http://localhost/webhooks/clerk', { method: 'POST', body: e.body, headers: e.headers }));

    it('answers 500 and stores nothing; the retry after the fault is stored once', async () => {
      await database.db.query(`create function clerk.drop_row() returns trigger language plpgsql as $$ begin return null; end $$`);
      await database.db.query(`create trigger drop_row before insert on clerk.webhook_events for each row execute function clerk.drop_row()`);
      const e = signEvent({ secret: SECRET, event: { type: 'user.created', data: { id: 'user_lost' } } });
      const refused = await deliver(e);
      expect(refused.status).toBe(500);
      expect((await refused.json()).error.code).toBe('internal_error');

      await database.db.query(`drop trigger drop_row on clerk.webhook_events`);
      const stored = await deliver(e);
      expect(stored.status).toBe(200);
      expect(await stored.json()).toEqual({ received: true, id: e.id });
      const again = await deliver(e);
      expect(await again.json()).toEqual({ received: true, id: e.id, duplicate: true });
      const rows = await database.db.query(`select status from clerk.webhook_events where id = $1`, [e.id]);
      expect(rows.rows).toHaveLength(1);
    });
  });
}
