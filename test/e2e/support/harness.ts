/**
 * What the end-to-end tests share: a throwaway Postgres database, building and starting an
 * example as its own process on loopback, and delivering signed events to it over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { signEvent } from '../../../src/testing/index.js';
import { queryOnce, withDatabase } from '../../support/postgres-admin.js';
import type { StreamEvent } from './events.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const artifactsDir = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
mkdirSync(artifactsDir, { recursive: true });

export function exampleDir(name: string): string {
  return fileURLToPath(new URL(`../../../examples/${name}/`, import.meta.url));
}

// ---------------------------------------------------------------- database

const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface E2eDatabase {
  url: string;
  /** The same database as a login role that owns nothing (the examples' APP_DATABASE_URL, for row-level security). */
  appUrl: string;
  /** One query on the app's database (assertions on the inbox and the tables). */
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

const admin = (sql: string) => queryOnce(adminUrl, sql);

/** An empty database: the example's clerk-sync migrates it on the first webhook, as in production. */
export async function createDatabase(): Promise<E2eDatabase> {
  const name = `clerk_sync_e2e_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = withDatabase(adminUrl, name);
  const appRole = `${name}_app`;
  await admin(`create role ${appRole} login nosuperuser nobypassrls`);
  const app = new URL(url);
  app.username = appRole;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // pool.end() resolves before its connections have closed; the forced drop below may terminate
  // one of them, and its client reports that through the pool: not an error of the test.
  pool.on('error', () => {});
  return {
    url,
    appUrl: app.toString(),
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async drop() {
      await pool.end();
      // with (force): the example may still hold connections if it was killed.
      await admin(`drop database if exists ${name} with (force)`);
      await admin(`drop role if exists ${appRole}`);
    },
  };
}

// ---------------------------------------------------------------- processes

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs a command to completion, its output appended to test-artifacts/<log>; rejects on failure. */
export function run(command: string, args: string[], options: { cwd: string; log: string; env?: NodeJS.ProcessEnv }): Promise<number> {
  const started = Date.now();
  const log = createWriteStream(`${artifactsDir}${options.log}`);
  log.write(`$ ${command} ${args.join(' ')}  (in ${options.cwd})\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Date.now() - started;
      log.end(`\n[exit ${code} after ${ms} ms]\n`);
      if (code === 0) resolve(ms);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}; see test-artifacts/${options.log}`));
    });
  });
}

export interface RunningApp {
  baseUrl: string;
  /** Everything the app printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts an example in its own process group on 127.0.0.1 and waits until it answers HTTP.
 * stop() signals that group only (the app and any child it forked), never anything else.
 */
export async function startApp(options: { name: string; cwd: string; command: string; args: string[]; port: number; env: NodeJS.ProcessEnv; readyPath?: string }): Promise<RunningApp> {
  const log = createWriteStream(`${artifactsDir}e2e-${options.name}.log`);
  let output = '';
  const child: ChildProcess = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    log.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.on('exit', (code) => ((exited = code), resolve())));

  const baseUrl = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (exited === undefined && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 10_000);
      await exit;
      clearTimeout(timer);
    }
    log.end();
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`${options.name} exited with ${exited} before answering:\n${output}`);
    try {
      await fetch(`${baseUrl}${options.readyPath ?? '/'}`, { signal: AbortSignal.timeout(5_000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${options.name} did not answer on ${baseUrl} within 60 s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { baseUrl, output: () => output, stop };
}

// ---------------------------------------------------------------- deliveries

export interface DeliveryAnswer {
  svixId: string;
  type: string;
  status: number;
  body: { received?: boolean; id?: string; duplicate?: boolean; error?: { code: string; message: string } | string };
}

/**
 * POSTs one delivery the way Svix does: signed now (a retry is signed afresh, with the same
 * svix id and body).
 */
export async function deliver(url: string, secret: string, event: StreamEvent): Promise<DeliveryAnswer> {
  const { headers, body } = signEvent({ secret, id: event.svixId, event: event.body });
  const response = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
  const text = await response.text();
  let parsed: DeliveryAnswer['body'];
  try {
    parsed = JSON.parse(text) as DeliveryAnswer['body'];
  } catch {
    parsed = { error: text };
  }
  return { svixId: event.svixId, type: event.type, status: response.status, body: parsed };
}

/** Delivers events with at most `concurrency` requests in flight, answers in input order. */
export async function deliverAll(url: string, secret: string, events: readonly StreamEvent[], concurrency: number): Promise<DeliveryAnswer[]> {
  const answers: DeliveryAnswer[] = new Array(events.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, events.length) }, async () => {
    while (next < events.length) {
      const i = next++;
      answers[i] = await deliver(url, secret, events[i]!);
    }
  });
  await Promise.all(lanes);
  return answers;
}

/** Where `import('clerk-sync/…')` lands from inside an example: must be the built dist/. */
export async function resolveFromExample(cwd: string, specifiers: string[]): Promise<string[]> {
  const script = `for (const s of ${JSON.stringify(specifiers)}) console.log(import.meta.resolve(s));`;
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`resolve exited with ${code}`))));
  });
  return out.trim().split('\n');
}
