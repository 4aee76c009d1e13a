/** `clerk-sync send`: sign an example (or your own) event and POST it, to test without a tunnel. */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signedHeaders } from '../../verify/index.js';
import { signingSecretFor, SECRET_HELP, type Env } from '../env.js';

/** One line for `clerk-sync --help`. */
export const summary = 'Signs a bundled example or your own event and POSTs it, the way Svix would.';

export const help = `Usage: clerk-sync send <event-type | file.json> [--url URL]
       clerk-sync send --all [--url URL]

Signs an event with the configured secret (CLERK_WEBHOOK_SIGNING_SECRET, or dev mode's secret in
the data folder) and POSTs it, the way Svix would. <event-type> picks a bundled example
(e.g. user.created); a path sends your own JSON. --all sends one of every bundled type.

  --url URL   where to send (default http://127.0.0.1:$PORT/webhooks/clerk, PORT default 3000)
  --list      list the bundled event types

Exit codes: 0 every event answered 2xx, 1 an answer was not 2xx or the request failed, 2 bad usage.`;

const examplesDir = new URL('../../clerk/examples/', import.meta.url);

export function exampleTypes(): string[] {
  return readdirSync(examplesDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

export function exampleEvent(type: string): string {
  return readFileSync(new URL(`${type}.json`, examplesDir), 'utf8');
}

function newMessageId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`;
}

export interface SendOptions {
  /** The svix id; default a fresh `msg_…`. */
  id?: string;
  /** Give up on the request (connection and answer) after this many milliseconds. */
  timeoutMs?: number;
  /** Svix does not follow redirects: `manual` shows them as they are. @default 'follow' */
  redirect?: RequestRedirect;
}

export async function sendSigned(url: string, body: string, secret: string, options: SendOptions = {}): Promise<{ status: number; text: string; id: string; headers: Headers }> {
  const id = options.id ?? newMessageId();
  const headers = signedHeaders({ id, timestamp: Math.floor(Date.now() / 1000), body, secret });
  const signal = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
  const response = await fetch(url, { method: 'POST', headers, body, redirect: options.redirect, signal });
  return { status: response.status, text: await response.text(), id, headers: response.headers };
}

export async function run(args: string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { url: { type: 'string' }, all: { type: 'boolean' }, list: { type: 'boolean' } } });
  if (values.list) {
    console.log(exampleTypes().join('\n'));
    return 0;
  }
  const target = positionals[0];
  if (!values.all && !target) {
    console.error(help);
    return 2;
  }
  const secret = signingSecretFor(env);
  if (!secret) {
    console.error(`No signing secret: start \`clerk-sync serve\` once in dev mode to create one, or ${SECRET_HELP}`);
    return 2;
  }
  const url = values.url ?? `http://127.0.0.1:${env.PORT ?? '3000'}/webhooks/clerk`;
  const bodies: Array<[string, string]> = [];
  if (values.all) for (const type of exampleTypes()) bodies.push([type, exampleEvent(type)]);
  else if (target && existsSync(target)) bodies.push([target, readFileSync(target, 'utf8')]);
  else if (target && exampleTypes().includes(target)) bodies.push([target, exampleEvent(target)]);
  else {
    console.error(`Unknown event type or file "${target}". Bundled types: ${exampleTypes().join(', ')}`);
    return 2;
  }
  let failures = 0;
  for (const [name, body] of bodies) {
    try {
      const result = await sendSigned(url, body, secret);
      console.log(`${name} → ${result.status} ${result.text}`);
      if (result.status < 200 || result.status >= 300) failures++;
    } catch (error) {
      console.error(`${name} → request failed: ${(error as Error).message}`);
      failures++;
    }
  }
  return failures === 0 ? 0 : 1;
}
