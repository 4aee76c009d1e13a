/** The HTTP contract of the webhook path, end to end over loopback, on every database backend. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClerkSync, type ClerkSync } from '../../src/service/clerk-sync.js';
import { signedHeaders } from '../../src/verify/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { post, startServer } from '../support/http.js';
import { captureLogs } from '../support/logs.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER_SECRET = 'whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXk=';
const NOW = 1_750_000_000;

function event(id = 'user_1', extra: Record<string, unknown> = {}) {
  return JSON.stringify({ type: 'user.created', object: 'event', timestamp: NOW * 1000, instance_id: 'ins_1', data: { id, object: 'user', ...extra } });
}

function signed(id: string, body: string | Uint8Array, opts: { secret?: string; timestamp?: number; prefix?: 'svix' | 'webhook' } = {}) {
  return signedHeaders({ id, timestamp: opts.timestamp ?? NOW, body, secret: opts.secret ?? SECRET, prefix: opts.prefix });
}

for (const backend of backends) {
  describe(`webhook intake (${backend.name})`, () => {
    let database: TestDatabase;
    let sync: ClerkSync;
    let server: { url: string; close(): Promise<void> };
    let url: string;

    beforeAll(async () => {
      database = await backend.create();
      sync = createClerkSync({ db: database.db, secret: SECRET, logger: false, now: () => NOW * 1000 });
      server = await startServer(sync);
      url = `${server.url}/webhooks/clerk`;
    });
    afterAll(async () => {
      await server.close();
      await database.drop();
    });
    beforeEach(async () => {
      await database.db.query('delete from clerk.webhook_events');
    });

    const stored = async () => (await database.db.query<{ id: string; type: string; payload: any; status: string; clerk_timestamp: string; instance_id: string }>('select * from clerk.webhook_events order by id')).rows;

    it('stores a verified event and answers 200 after commit', async () => {
      const body = event();
      const res = await post(url, body, signed('msg_1', body));
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ received: true, id: 'msg_1' });
      const rows = await stored();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: 'msg_1', type: 'user.created', status: 'pending', instance_id: 'ins_1' });
      expect(Number(rows[0]!.clerk_timestamp)).toBe(NOW * 1000);
      expect(rows[0]!.payload.data.id).toBe('user_1');
    });

    it('also serves /api/webhooks/clerk and accepts webhook-* headers', async () => {
      const body = event();
      const res = await post(`${server.url}/api/webhooks/clerk`, body, signed('msg_2', body, { prefix: 'webhook' }));
      expect(res.status).toBe(200);
      expect((await stored()).map((r) => r.id)).toEqual(['msg_2']);
    });

    it('answers a duplicate id with duplicate: true and keeps the first payload, even with another body', async () => {
      const first = event('user_first');
      const second = event('user_second');
      expect((await post(url, first, signed('msg_dup', first))).status).toBe(200);
      const again = await post(url, first, signed('msg_dup', first));
      expect(again.json).toEqual({ received: true, id: 'msg_dup', duplicate: true });
      const different = await post(url, second, signed('msg_dup', second));
      expect(different.status).toBe(200);
      expect(different.json.duplicate).toBe(true);
      const rows = await stored();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.payload.data.id).toBe('user_first');
    });

    it('warns (ids only) when a duplicate id comes with other JSON, not when only its formatting differs', async () => {
      const { lines, logger } = captureLogs('warn');
      const watched = createClerkSync({ db: database.db, secret: SECRET, logger, now: () => NOW * 1000 });
      const own = await startServer(watched);
      try {
        const first = event('user_watch');
        const reformatted = JSON.stringify(JSON.parse(first), null, 2);
        expect((await post(`${own.url}/webhooks/clerk`, first, signed('msg_watch', first))).status).toBe(200);
        expect((await post(`${own.url}/webhooks/clerk`, reformatted, signed('msg_watch', reformatted))).json.duplicate).toBe(true);
        expect(lines.filter((l) => l.msg.includes('different body'))).toEqual([]);
        const other = event('user_other_watch');
        expect((await post(`${own.url}/webhooks/clerk`, other, signed('msg_watch', other))).json.duplicate).toBe(true);
        const warned = lines.filter((l) => l.msg.includes('different body'));
        expect(warned).toHaveLength(1);
        expect(JSON.stringify(warned[0])).not.toContain('user_other_watch');
      } finally {
        await own.close();
      }
    });

    it('accepts a body without content-type or with text/plain', async () => {
      const body = event();
      const headers = signed('msg_ct1', body);
      delete headers['content-type'];
      expect((await post(url, body, headers)).status).toBe(200);
      const plain = { ...signed('msg_ct2', body), 'content-type': 'text/plain' };
      expect((await post(url, body, plain)).status).toBe(200);
      expect(await stored()).toHaveLength(2);
    });

    it('stores each of many concurrent deliveries exactly once (group commit)', async () => {
      const n = 300;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => {
          const body = event(`user_${i}`);
          // every id sent twice, concurrently
          return Promise.all([post(url, body, signed(`msg_c${i}`, body)), post(url, body, signed(`msg_c${i}`, body))]);
        }),
      );
      for (const [a, b] of results) {
        expect(a.status).toBe(200);
        expect(b.status).toBe(200);
        expect([a.json.duplicate, b.json.duplicate].filter(Boolean)).toHaveLength(1);
      }
      expect(await stored()).toHaveLength(n);
    });

    describe('bad input: a clear 4xx and nothing stored', () => {
      const body = event();
      const base = () => signed('msg_bad', body);
      const cases: Array<[string, () => { body: string | Uint8Array; headers: Record<string, string> }, number, string]> = [
        ['missing svix-id', () => { const h = base(); delete h['svix-id']; return { body, headers: h }; }, 400, 'missing_headers'],
        ['missing svix-timestamp', () => { const h = base(); delete h['svix-timestamp']; return { body, headers: h }; }, 400, 'missing_headers'],
        ['missing svix-signature', () => { const h = base(); delete h['svix-signature']; return { body, headers: h }; }, 400, 'missing_headers'],
        ['empty svix-id', () => ({ body, headers: { ...base(), 'svix-id': '' } }), 400, 'missing_headers'],
        ['empty svix-signature', () => ({ body, headers: { ...base(), 'svix-signature': '' } }), 400, 'missing_headers'],
        ['bad base64 signature', () => ({ body, headers: { ...base(), 'svix-signature': 'v1,!!!not-base64!!!' } }), 400, 'invalid_signature'],
        ['signature for another body', () => ({ body, headers: signed('msg_bad', event('user_other')) }), 400, 'invalid_signature'],
        ['signature with another secret', () => ({ body, headers: signed('msg_bad', body, { secret: OTHER_SECRET }) }), 400, 'invalid_signature'],
        ['body changed by one byte', () => ({ body: body.replace('user_1', 'user_2'), headers: base() }), 400, 'invalid_signature'],
        ['BOM added after signing', () => ({ body: `\ufeff${body}`, headers: base() }), 400, 'invalid_signature'],
        ['newline added after signing', () => ({ body: `${body}\n`, headers: base() }), 400, 'invalid_signature'],
        ['timestamp 301 s old', () => ({ body, headers: signed('msg_bad', body, { timestamp: NOW - 301 }) }), 400, 'timestamp_too_old'],
        ['timestamp 301 s ahead', () => ({ body, headers: signed('msg_bad', body, { timestamp: NOW + 301 }) }), 400, 'timestamp_too_new'],
        ['non-numeric timestamp', () => ({ body, headers: { ...base(), 'svix-timestamp': 'abc' } }), 400, 'invalid_timestamp'],
        ['timestamp +1', () => ({ body, headers: { ...base(), 'svix-timestamp': `+${NOW}` } }), 400, 'invalid_timestamp'],
        ['timestamp with a leading space', () => ({ body, headers: { ...base(), 'svix-timestamp': ` ${NOW}x` } }), 400, 'invalid_timestamp'],
        ['timestamp 1e9', () => ({ body, headers: { ...base(), 'svix-timestamp': '1e9' } }), 400, 'invalid_timestamp'],
        ['timestamp 1.5', () => ({ body, headers: { ...base(), 'svix-timestamp': `${NOW}.5` } }), 400, 'invalid_timestamp'],
        ['only v1a signatures', () => ({ body, headers: { ...base(), 'svix-signature': 'v1a,' + base()['svix-signature']!.slice(3) } }), 400, 'invalid_signature'],
        ['10 KB svix id', () => ({ body, headers: signed('m'.repeat(10_240), body) }), 400, 'invalid_id'],
        ['non-JSON body', () => ({ body: 'not json', headers: signed('msg_bad', 'not json') }), 400, 'invalid_json'],
        ['JSON array body', () => ({ body: '[1,2]', headers: signed('msg_bad', '[1,2]') }), 400, 'invalid_event'],
        ['JSON string body', () => ({ body: '"user.created"', headers: signed('msg_bad', '"user.created"') }), 400, 'invalid_event'],
        ['no type', () => ({ body: '{"data":{}}', headers: signed('msg_bad', '{"data":{}}') }), 400, 'invalid_event'],
        ['data not an object', () => ({ body: '{"type":"user.created","data":[]}', headers: signed('msg_bad', '{"type":"user.created","data":[]}') }), 400, 'invalid_event'],
        ['a \\u0000 that jsonb cannot store', () => { const b = '{"type":"user.created","data":{"id":"a\\u0000b"}}'; return { body: b, headers: signed('msg_bad', b) }; }, 400, 'invalid_json'],
        ['an envelope timestamp of 1e19', () => { const b = '{"type":"user.created","timestamp":1e19,"data":{"id":"user_t"}}'; return { body: b, headers: signed('msg_bad', b) }; }, 400, 'invalid_event'],
        ['an envelope timestamp that is a string', () => { const b = '{"type":"user.created","timestamp":"today","data":{"id":"user_t"}}'; return { body: b, headers: signed('msg_bad', b) }; }, 400, 'invalid_event'],
        ['a number jsonb cannot store (1e999999)', () => { const b = '{"type":"user.created","data":{"id":"user_n","unsafe_metadata":{"n":1e999999}}}'; return { body: b, headers: signed('msg_bad', b) }; }, 400, 'invalid_json'],
        ['a number jsonb cannot store (1e-999999)', () => { const b = '{"type":"user.created","data":{"id":"user_n","unsafe_metadata":{"n":-2.5E-999999}}}'; return { body: b, headers: signed('msg_bad', b) }; }, 400, 'invalid_json'],
        ['invalid UTF-8', () => { const b = new Uint8Array([...Buffer.from('{"type":"x","data":{"a":"'), 0xff, ...Buffer.from('"}}')]); return { body: b, headers: signed('msg_bad', b) }; }, 400, 'invalid_json'],
      ];
      for (const [name, make, status, code] of cases) {
        it(name, async () => {
          const { body: b, headers } = make();
          const res = await post(url, b, headers);
          expect(res.status).toBe(status);
          expect(res.json.error.code).toBe(code);
          expect(typeof res.json.error.message).toBe('string');
          expect(await stored()).toHaveLength(0);
        });
      }

      it('a correctly signed delivery with metadata nested 4,400 levels deep (what 8 KB of metadata allows) is stored (the user wrote it; Clerk accepts it)', async () => {
        const deep = JSON.stringify({ type: 'user.updated', object: 'event', timestamp: Date.now(), data: { id: 'user_deep', object: 'user', updated_at: Date.now() } }).replace(
          '"object":"user"',
          `"object":"user","unsafe_metadata":{"x":${'['.repeat(4400)}${']'.repeat(4400)}}`,
        );
        const res = await post(url, deep, signed('msg_deep', deep));
        expect(res.status).toBe(200);
        expect((await stored()).map((r) => r.id)).toContain('msg_deep');
      });

      it('a correctly signed delivery refused after verification does not count against its address', async () => {
        // Far past what the databases store: refused, but the sender proved itself with the
        // signature. More than the failed budget (60 a minute) of such deliveries still leave the
        // address heard.
        for (let i = 0; i < 70; i++) {
          const tooDeep = `{"type":"user.updated","data":{"id":"user_x","x":${'['.repeat(9000)}${']'.repeat(9000)}}}`;
          const res = await post(url, tooDeep, signed(`msg_deep_${i}`, tooDeep));
          expect(res.status).toBe(400);
        }
        const ok = await post(url, body, base());
        expect(ok.status).toBe(200);
      });

      it('a body of 1 MiB + 1 byte gets 413', async () => {
        const big = JSON.stringify({ type: 'user.created', data: { pad: 'x'.repeat(1024 * 1024) } });
        const res = await post(url, big, signed('msg_big', big));
        expect(res.status).toBe(413);
        expect(res.json.error.code).toBe('payload_too_large');
        expect(await stored()).toHaveLength(0);
      });

      it('a huge header set is refused by the runtime (431) and stores nothing', async () => {
        const headers = { ...base(), 'x-padding': 'x'.repeat(64 * 1024) };
        const res = await fetch(url, { method: 'POST', headers, body }).catch(() => null);
        if (res) expect(res.status).toBe(431);
        expect(await stored()).toHaveLength(0);
      });

      it('other methods get 405 with Allow: POST', async () => {
        const res = await fetch(url, { method: 'GET' });
        expect(res.status).toBe(405);
        expect(res.headers.get('allow')).toBe('POST');
        expect((await res.json()).error.code).toBe('method_not_allowed');
      });
    });

    it('answers /healthz and /readyz', async () => {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ok: true, database: 'ok', pendingMigrations: [] });
    });

    it('answers 500 secret_not_configured when no secret is set (library mode)', async () => {
      const bare = createClerkSync({ db: database.db, logger: false });
      const res = await bare.handleWebhook(new Request('http://x/api/webhooks/clerk', { method: 'POST', body: event(), headers: signed('msg_ns', event()) }));
      expect(res.status).toBe(500);
      expect((await res.json()).error.code).toBe('secret_not_configured');
      expect(await stored()).toHaveLength(0);
    });

    it('verifies with any of several secrets (rotation)', async () => {
      const rotating = createClerkSync({ db: database.db, secret: `${OTHER_SECRET} ${SECRET}`, logger: false, now: () => NOW * 1000 });
      const body = event();
      const res = await rotating.handleWebhook(new Request('http://x/api/webhooks/clerk', { method: 'POST', body, headers: signed('msg_rot', body) }));
      expect(res.status).toBe(200);
    });
  });
}

describe('database unreachable', () => {
  it('answers 503 and acknowledges nothing', async () => {
    const sync = createClerkSync({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', secret: SECRET, logger: false, now: () => NOW * 1000 });
    const body = event();
    const res = await sync.handleWebhook(new Request('http://x/api/webhooks/clerk', { method: 'POST', body, headers: signed('msg_down', body) }));
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('database_unavailable');
    await sync.close();
  });
});

describe('configuration errors at construction', () => {
  it('rejects a malformed secret with a message that does not echo it', () => {
    expect(() => createClerkSync({ secret: 'whsec_%%%notbase64', logger: false })).toThrow(/secret/);
    try {
      createClerkSync({ secret: 'sk_live_abcdef', logger: false });
    } catch (error) {
      expect((error as Error).message).not.toContain('sk_live_abcdef');
      expect((error as { code: string }).code).toBe('invalid_secret');
    }
  });
  it('does no I/O at construction (Next.js build imports the route without env)', () => {
    expect(() => createClerkSync({ databaseUrl: 'postgres://nobody@127.0.0.1:1/x' })).not.toThrow();
  });
});
