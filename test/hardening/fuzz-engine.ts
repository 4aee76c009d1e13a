/**
 * The fuzzer of the webhook server: fast-check generates methods, paths, header sets and bodies
 * (random garbage, forged signatures, valid signatures over invalid payloads, valid events, and
 * raw bytes that are not HTTP at all), which are sent with a keep-alive pool to a running server.
 * The oracle is the HTTP contract: never a 5xx; a valid event is answered 200; a request that
 * fails verification is answered 4xx; only events signed with the secret may be stored.
 * Shared by test/hardening/fuzz.test.ts and scripts that run longer campaigns.
 */
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { signedHeaders } from '../../src/verify/index.js';
import { SECRET } from './support.js';

export interface FuzzOptions {
  url: string;
  /** Server process to watch (memory). */
  pid: number;
  requests: number;
  concurrency?: number;
  seed?: number;
  /** The server's body limit: bodies above it must get 413. */
  maxBodyBytes: number;
  log?: (line: string) => void;
}

export interface FuzzReport {
  requests: number;
  raw: number;
  durationMs: number;
  statuses: Record<string, number>;
  /** Requests the client library refused to build (invalid by Node's own rules): not sent. */
  skipped: number;
  transportErrors: number;
  violations: string[];
  /** Ids a correct signature vouches for over an event-shaped body: the only ones that may be stored. */
  mayStore: Set<string>;
  /** Ids of valid events answered 200: each must be stored. */
  mustStore: Set<string>;
  /** Server RSS: at the start, the highest during the first fifth of the run (warm-up), the highest overall, at the end. */
  rssMb: { start: number; warmupMax: number; max: number; end: number };
  seed: number;
}

type HttpCase = {
  kind: 'valid' | 'signed-invalid' | 'forged' | 'garbage';
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  id?: string;
};
type RawCase = { kind: 'raw'; bytes: Uint8Array };
type Case = HttpCase | RawCase;

const encoder = new TextEncoder();
const WEBHOOK_PATHS = ['/webhooks/clerk', '/api/webhooks/clerk'];
const RESERVED = new Set(['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive']);

const printable = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });
const headerName = fc
  .oneof(
    fc.constantFrom('svix-id', 'svix-timestamp', 'svix-signature', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type', 'x-forwarded-for', 'cf-connecting-ip', 'authorization', 'cookie', 'accept-encoding', 'content-encoding'),
    fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,24}$/),
  )
  .filter((n) => !RESERVED.has(n.toLowerCase()));
const extraHeaders = fc.dictionary(headerName, printable(60), { maxKeys: 6 });
const paths = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...WEBHOOK_PATHS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('/', '//', '//[', '/webhooks/clerk/', '/webhooks/clerk?x=1', '/WEBHOOKS/CLERK', '/webhooks/clerk%00', '/healthz', '/readyz', '/metrics', '/admin', '/../webhooks/clerk', '/webhooks//clerk', '/%2e%2e/', '*', 'http://other/webhooks/clerk'),
  },
  { weight: 1, arbitrary: fc.webPath() },
);
const methods = fc.oneof({ weight: 6, arbitrary: fc.constant('POST') }, { weight: 2, arbitrary: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'M-SEARCH') });

const safeText = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/\u0000/g, ''));
const validEvent = fc.record({
  type: fc.constantFrom('user.created', 'user.updated', 'user.deleted', 'organization.created', 'organizationMembership.created', 'session.created', 'email.created', 'some.future.event'),
  data: fc.record({
    id: fc.stringMatching(/^[a-z]{2,4}_[A-Za-z0-9]{4,20}$/),
    first_name: safeText,
    public_metadata: fc.dictionary(safeText, fc.oneof(safeText, fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 4 }),
  }),
  object: fc.constant('event'),
  timestamp: fc.nat(),
});

// Mostly around the accepted bound (4,608), sometimes far past what Postgres or PGlite could parse.
const depth = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 4590, max: 4620 }) }, { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 25_000 }) });
const invalidPayload: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.json({ maxDepth: 3 }).map((s) => encoder.encode(s)),
  fc.uint8Array({ maxLength: 400 }),
  fc
    .record({ type: fc.oneof(fc.integer(), fc.constant(null), printable(10), fc.array(fc.string())), data: fc.oneof(fc.array(fc.integer()), fc.string(), fc.constant(null), fc.dictionary(fc.string(), fc.string())) })
    .map((o) => encoder.encode(JSON.stringify(o))),
  // Deep nesting inside a valid envelope: JSON.parse, jsonb and the log must all survive it.
  depth.map((d) => encoder.encode(`{"type":"user.created","data":{"x":${'['.repeat(d)}${']'.repeat(d)}}}`)),
  depth.map((d) => encoder.encode(`${'{"a":'.repeat(d)}1${'}'.repeat(d)}`)),
  printable(30).map((s) => encoder.encode(`{"type":"user.created","data":{"id":"${s.replace(/["\\]/g, '')}\\u0000"}}`)),
  fc.constantFrom(
    '',
    ' ',
    'null',
    '{}',
    '[]',
    '{"type":"x"}',
    '{"data":{}}',
    '\ufeff{"type":"x","data":{}}',
    '{"type":"x","data":{}}garbage',
    '{"type":"\\ud800","data":{}}',
    '{"type":"x","data":{"s":"\\ud800"}}',
    '{"type":"x","data":{"n":1e999}}',
  ).map((s) => encoder.encode(s)),
);

function caseArbitrary(nowSeconds: number, nextId: () => string, maxBodyBytes: number): fc.Arbitrary<Case> {
  const sign = (id: string, body: Uint8Array, prefix: 'svix' | 'webhook', timestamp = nowSeconds) => signedHeaders({ id, timestamp, body, secret: SECRET, prefix });
  const valid = fc.tuple(validEvent, fc.constantFrom(...WEBHOOK_PATHS), fc.constantFrom('svix', 'webhook') as fc.Arbitrary<'svix' | 'webhook'>, extraHeaders).map(([event, path, prefix, extra]): Case => {
    const id = nextId();
    const body = encoder.encode(JSON.stringify(event));
    // Noise headers may not shadow the signature headers (a second svix-id would rightly fail).
    const noise = Object.fromEntries(Object.entries(extra).filter(([name]) => !/^(svix|webhook)-/i.test(name)));
    return { kind: 'valid', method: 'POST', path, headers: { ...noise, ...sign(id, body, prefix) }, body, id };
  });
  const signedInvalid = fc.tuple(invalidPayload, fc.constantFrom(...WEBHOOK_PATHS), fc.constantFrom(-400, 0, 0, 0, 400)).map(([body, path, skew]): Case => {
    const id = nextId();
    return { kind: 'signed-invalid', method: 'POST', path, headers: sign(id, body, 'svix', nowSeconds + skew), body, id };
  });
  const forged = fc
    .tuple(
      fc.record(
        {
          id: fc.oneof(fc.stringMatching(/^[\x21-\x7e]{1,40}$/), fc.constant(''), printable(300)),
          timestamp: fc.oneof(fc.constant(String(nowSeconds)), fc.integer().map(String), printable(20)),
          signature: fc.oneof(fc.base64String({ minLength: 44, maxLength: 44 }).map((s) => `v1,${s}`), printable(120), fc.constant('v1,')),
        },
        { requiredKeys: [] },
      ),
      fc.constantFrom('svix', 'webhook'),
      fc.oneof(validEvent.map((e) => encoder.encode(JSON.stringify(e))), invalidPayload),
      paths,
      extraHeaders,
    )
    .map(([h, prefix, body, path, extra]): Case => {
      const headers: Record<string, string> = { ...extra };
      if (h.id !== undefined) headers[`${prefix}-id`] = h.id;
      if (h.timestamp !== undefined) headers[`${prefix}-timestamp`] = h.timestamp;
      if (h.signature !== undefined) headers[`${prefix}-signature`] = h.signature;
      return { kind: 'forged', method: 'POST', path, headers, body };
    });
  const garbage = fc.tuple(methods, paths, extraHeaders, fc.oneof({ weight: 20, arbitrary: fc.uint8Array({ maxLength: 256 }) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(maxBodyBytes + 1)) })).map(
    ([method, path, headers, body]): Case => ({ kind: 'garbage', method, path, headers, body: method === 'GET' || method === 'HEAD' ? new Uint8Array(0) : body }),
  );
  const raw = fc
    .oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(fc.constantFrom('POST', 'GET', 'P\x00ST', ''), fc.constantFrom('/webhooks/clerk', '//', '', ' '), fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }), fc.uint8Array({ maxLength: 100 })).map(([m, p, lines, body]) => {
        const head = encoder.encode(`${m} ${p} HTTP/1.1\r\nhost: x\r\n`);
        const parts = [head, ...lines.flatMap((l) => [l, encoder.encode('\r\n')]), encoder.encode('\r\n'), body];
        return Buffer.concat(parts);
      }),
    )
    .map((bytes): Case => ({ kind: 'raw', bytes }));
  return fc.oneof({ weight: 15, arbitrary: valid }, { weight: 25, arbitrary: signedInvalid }, { weight: 35, arbitrary: forged }, { weight: 25, arbitrary: garbage }, { weight: 1, arbitrary: raw });
}

/** Would the contract allow storing this body (a JSON object with a string type and an object data)? */
function eventShaped(body: Uint8Array): boolean {
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string' && typeof (value as { data?: unknown }).data === 'object' && (value as { data?: unknown }).data !== null && !Array.isArray((value as { data?: unknown }).data);
  } catch {
    return false;
  }
}

function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function sendHttp(base: URL, agent: Agent, c: HttpCase): Promise<number | 'error' | 'skipped'> {
  return new Promise((resolve) => {
    let req;
    try {
      req = httpRequest({ host: base.hostname, port: base.port, path: c.path, method: c.method, headers: { ...c.headers, 'content-length': String(c.body.length) }, agent });
    } catch {
      return resolve('skipped');
    }
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve('error'));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve('error'));
    });
    req.end(c.body);
  });
}

function sendRaw(base: URL, bytes: Uint8Array): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const socket = connect(Number(base.port), base.hostname);
    let data = '';
    let settled = false;
    const settle = (result: number | 'closed') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    // A server that neither answers nor closes within this is holding a connection it should not.
    const timer = setTimeout(() => settle('closed'), 3000);
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      if (status) settle(Number(status[1]));
    });
    socket.on('error', () => {});
    socket.on('close', () => settle('closed'));
    socket.end(bytes);
  });
}

export async function fuzzServer(options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const concurrency = options.concurrency ?? 32;
  const base = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const log = options.log ?? (() => {});
  let counter = 0;
  const nextId = () => `fz_${seed}_${counter++}`;
  const startRss = rssMb(options.pid);
  const report: FuzzReport = {
    requests: 0,
    raw: 0,
    durationMs: 0,
    statuses: {},
    skipped: 0,
    transportErrors: 0,
    violations: [],
    mayStore: new Set(),
    mustStore: new Set(),
    rssMb: { start: startRss, warmupMax: startRss, max: startRss, end: 0 },
    seed,
  };
  const warmup = Math.floor(options.requests / 5);
  const violation = (text: string) => {
    if (report.violations.length < 50) report.violations.push(text);
  };
  const sampler = setInterval(() => {
    const rss = rssMb(options.pid);
    report.rssMb.max = Math.max(report.rssMb.max, rss);
    if (report.requests < warmup) report.rssMb.warmupMax = report.rssMb.max;
  }, 250);

  const started = Date.now();
  let queue: Case[] = [];
  let generated = 0;
  let chunk = 0;
  const take = (): Case | undefined => {
    if (queue.length === 0 && generated < options.requests) {
      const n = Math.min(2000, options.requests - generated);
      generated += n;
      // Signed at generation time: a campaign longer than the 5-minute tolerance would otherwise go stale.
      queue = fc.sample(caseArbitrary(Math.floor(Date.now() / 1000), nextId, options.maxBodyBytes), { numRuns: n, seed: seed + chunk++ });
    }
    return queue.pop();
  };

  const one = async (c: Case): Promise<void> => {
    if (c.kind === 'raw') {
      report.raw++;
      const status = await sendRaw(base, c.bytes);
      report.statuses[String(status)] = (report.statuses[String(status)] ?? 0) + 1;
      if (typeof status === 'number' && status >= 500) violation(`raw request answered ${status}: ${JSON.stringify(Buffer.from(c.bytes).toString('latin1').slice(0, 120))}`);
      return;
    }
    const signedEvent = (c.kind === 'valid' || c.kind === 'signed-invalid') && eventShaped(c.body);
    if (c.id && signedEvent) report.mayStore.add(c.id);
    const status = await sendHttp(base, agent, c);
    report.statuses[String(status)] = (report.statuses[String(status)] ?? 0) + 1;
    if (status === 'skipped') {
      report.skipped++;
      return;
    }
    if (status === 'error') {
      report.transportErrors++;
      if (c.kind === 'valid') violation(`valid delivery ${c.id} got no answer`);
      return;
    }
    if (status >= 500) violation(`${c.kind} ${c.method} ${c.path} answered ${status} (id ${c.id ?? '-'})`);
    if (c.kind === 'valid') {
      if (status === 200) report.mustStore.add(c.id!);
      else violation(`valid delivery ${c.id} answered ${status}`);
    }
    const isWebhookPost = c.method === 'POST' && WEBHOOK_PATHS.includes(c.path);
    if (isWebhookPost && c.kind === 'forged' && status === 200) violation(`forged delivery accepted: ${JSON.stringify(c.headers).slice(0, 200)}`);
    if (isWebhookPost && c.kind === 'signed-invalid' && !signedEvent && status === 200) violation(`non-event body accepted (id ${c.id})`);
    if (isWebhookPost && c.body.length > options.maxBodyBytes && status !== 413) violation(`oversized body answered ${status}`);
  };

  const workers = Array.from({ length: concurrency }, async () => {
    for (let c = take(); c; c = take()) {
      await one(c);
      report.requests++;
      if (report.requests % 20_000 === 0) log(`fuzz: ${report.requests} requests, ${Math.round((Date.now() - started) / 1000)} s, rss ${Math.round(rssMb(options.pid))} MB`);
    }
  });
  await Promise.all(workers);
  clearInterval(sampler);
  agent.destroy();
  report.durationMs = Date.now() - started;
  report.rssMb.end = rssMb(options.pid);
  report.rssMb.max = Math.max(report.rssMb.max, report.rssMb.end);
  return report;
}

/** Everything the run must satisfy besides "no violation", given the ids found in the inbox afterwards. */
export function judge(report: FuzzReport, storedIds: readonly string[]): string[] {
  const problems = [...report.violations];
  if (report.skipped > report.requests * 0.02) problems.push(`${report.skipped} requests could not be built`);
  if (report.transportErrors > report.requests * 0.01) problems.push(`${report.transportErrors} requests got no answer`);
  if (report.mustStore.size < report.requests * 0.05) problems.push(`only ${report.mustStore.size} valid events were acknowledged`);
  // Memory: whatever the warm-up reached, the rest of the run must not keep growing.
  if (report.rssMb.max - report.rssMb.warmupMax > 150) problems.push(`memory grew by ${Math.round(report.rssMb.max - report.rssMb.warmupMax)} MB after warm-up`);
  if (report.rssMb.max - report.rssMb.start > 400) problems.push(`memory grew by ${Math.round(report.rssMb.max - report.rssMb.start)} MB`);
  const unexpected = storedIds.filter((id) => !report.mayStore.has(id));
  if (unexpected.length > 0) problems.push(`stored without a valid signature over an event: ${unexpected.slice(0, 10).join(', ')}`);
  const stored = new Set(storedIds);
  const lost = [...report.mustStore].filter((id) => !stored.has(id));
  if (lost.length > 0) problems.push(`acknowledged but not stored: ${lost.slice(0, 10).join(', ')}`);
  return problems;
}

export function summarize(report: FuzzReport): Record<string, unknown> {
  return {
    requests: report.requests,
    raw: report.raw,
    seconds: Math.round(report.durationMs / 100) / 10,
    perSecond: Math.round(report.requests / (report.durationMs / 1000)),
    statuses: report.statuses,
    skipped: report.skipped,
    transportErrors: report.transportErrors,
    validAcknowledged: report.mustStore.size,
    rssMb: Object.fromEntries(Object.entries(report.rssMb).map(([k, v]) => [k, Math.round(v)])),
    seed: report.seed,
  };
}
