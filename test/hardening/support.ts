/**
 * Helpers of the hardening tests: raw HTTP from a chosen loopback address (127.0.0.2, 127.0.0.3, …
 * are all the local machine, so each stands for a different client), signed events, and
 * `clerk-sync serve` run as a real child process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { signedHeaders } from '../../src/verify/index.js';

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** The client's source address (any 127.x.y.z works on Linux loopback). */
  localAddress?: string;
  agent?: Agent;
  timeoutMs?: number;
}

export function send(url: string, options: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'POST', headers: options.headers, localAddress: options.localAddress, agent: options.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    if (options.timeoutMs) req.setTimeout(options.timeoutMs, () => req.destroy(new Error('client timeout')));
    req.end(options.body);
  });
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function eventBody(userId: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: 'user.created', object: 'event', timestamp: Date.now(), instance_id: 'ins_hardening', data: { id: userId, object: 'user', ...extra } });
}

/** A signed delivery: headers and body, signed now (or at `timestamp`). */
export function signed(id: string, body: string, timestamp = nowSeconds(), secret = SECRET): { headers: Record<string, string>; body: string } {
  return { headers: signedHeaders({ id, timestamp, body, secret }), body };
}

/** A delivery that fails verification (a signature over another body). */
export function badlySigned(id: string): { headers: Record<string, string>; body: string } {
  const body = eventBody('user_bad');
  return { headers: signedHeaders({ id, timestamp: nowSeconds(), body: `${body} `, secret: SECRET }), body };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ServeProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout and stderr so far (pino lines are JSON). */
  output(): string;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

/** The environment of a child `serve`: this process's, minus every clerk-sync setting, plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('CLERK_') || k === 'DATABASE_URL' || k === 'REDIS_URL' || k === 'PORT' || k.startsWith('VITEST') || k === 'NODE_ENV') continue;
    base[k] = v;
  }
  return { ...base, ...env };
}

/** Starts `clerk-sync serve` from the sources on a free port and waits until it listens. */
export async function startServe(env: Record<string, string>, options: { port?: number; startTimeoutMs?: number; args?: string[] } = {}): Promise<ServeProcess> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', ...(options.args ?? [])], {
    cwd: ROOT,
    env: childEnv({ CLERK_WEBHOOK_SIGNING_SECRET: SECRET, ...env }),
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in time:\n${output}`)), options.startTimeoutMs ?? 30_000);
    const check = () => {
      if (output.includes('clerk-sync listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
