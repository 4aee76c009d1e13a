/**
 * `clerk-sync doctor --url` against a real `clerk-sync serve` on loopback, as a tunnel would
 * forward to it: on the embedded database (dev mode; doctor reads the inbox over serve's control
 * socket) and, when TEST_DATABASE_URL is set, on a Postgres database of its own. Then the ways it
 * goes wrong: another secret, a URL that is no URL, a port nobody listens on, no secret at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { backends } from '../support/databases.js';
import { CLI, cliEnv, cwd, runCli } from '../support/cli.js';
import { tempDirs } from '../support/temp-dirs.js';
import { generateSigningSecret } from '../../src/verify/index.js';

const SECRET = generateSigningSecret();
const OTHER = generateSigningSecret();

const dirs = tempDirs('clerk-sync-doctor-');
afterAll(dirs.removeAll);

async function startServe(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0', '--host', '127.0.0.1'], { cwd, env: cliEnv(env) });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 45_000);
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  return {
    child,
    url,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A loopback port that was just free: nothing listens there. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const postgres = backends.find((b) => b.name === 'postgres');
const setups: Array<{ name: string; env: () => Promise<{ env: Record<string, string>; drop(): Promise<void> }> }> = [
  // Dev mode: serve generates the secret in the data folder and doctor signs with the same file.
  { name: 'embedded PGlite, dev mode', env: async () => ({ env: { CLERK_SYNC_DATA_DIR: dirs.make() }, drop: async () => {} }) },
];
if (postgres) {
  setups.push({
    name: 'Postgres',
    env: async () => {
      const database = await postgres.create();
      return { env: { DATABASE_URL: database.url!, CLERK_WEBHOOK_SIGNING_SECRET: SECRET, CLERK_SYNC_DATA_DIR: dirs.make() }, drop: () => database.drop() };
    },
  });
}

for (const setup of setups) {
  describe(`doctor --url against clerk-sync serve (${setup.name})`, () => {
    it('confirms each step and exits 0; with another secret it reports the signature refused and exits 1', async () => {
      const { env, drop } = await setup.env();
      const serve = await startServe(env);
      try {
        const good = await runCli(['doctor', '--url', serve.url], env);
        expect(good.stdout).toMatch(/✓ endpoint\s+http:\/\/127\.0\.0\.1:\d+\/webhooks\/clerk answered 200 in \d+ ms/);
        expect(good.stdout).toMatch(/✓ signature\s+the signed test event was accepted \(200\); one signed with another secret was refused \(400 invalid_signature\)/);
        expect(good.stdout).toMatch(/✓ inbox\s+msg_doctor_[0-9a-f]+ is in clerk\.webhook_events \((pending|ignored)\)/);
        expect(good.stdout).not.toMatch(/^✗/m);
        expect(good.status, good.stdout + good.stderr).toBe(0);

        // The test event changes no table: serve's worker marks it ignored (soon, not at once).
        let byStatus: Record<string, number> = {};
        for (let attempt = 0; attempt < 10 && !byStatus.ignored; attempt++) {
          const status = await runCli(['status', '--json'], env);
          expect(status.status, status.stderr).toBe(0);
          byStatus = JSON.parse(status.stdout).inbox.byStatus;
        }
        expect(byStatus).toEqual({ ignored: 1 });

        const wrong = await runCli(['doctor', '--url', serve.url], { ...env, CLERK_WEBHOOK_SIGNING_SECRET: OTHER });
        expect(wrong.stdout).toMatch(/✓ endpoint\s+.* answered 400/);
        expect(wrong.stdout).toMatch(/✗ signature\s+the signed test event got 400 invalid_signature/);
        expect(wrong.stdout).toContain('use the same CLERK_WEBHOOK_SIGNING_SECRET on both');
        expect(wrong.stdout).toMatch(/- inbox\s+not checked: the test event was refused/);
        expect(wrong.status).toBe(1);
        for (const output of [good.stdout + good.stderr, wrong.stdout + wrong.stderr]) {
          expect(output).not.toContain(OTHER);
          expect(output).not.toContain(SECRET);
        }
      } finally {
        await serve.stop();
        await drop();
      }
    });
  });
}

describe('doctor --url when it cannot get through', () => {
  it('refuses a URL that is not an http(s) URL in one line, exit 2', async () => {
    for (const url of ['not a url', 'ftp://example.com/webhooks/clerk', 'localhost:3000/webhooks/clerk']) {
      const r = await runCli(['doctor', '--url', url], { CLERK_WEBHOOK_SIGNING_SECRET: SECRET, CLERK_SYNC_DATA_DIR: dirs.make() });
      expect(r.status, url).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([`clerk-sync doctor: --url must be an http:// or https:// URL such as https://<tunnel-host>/webhooks/clerk, got "${url}"`]);
    }
  });

  it('reports a port nobody listens on as unreachable, exit 1', async () => {
    const port = await closedPort();
    const r = await runCli(['doctor', '--url', `http://127.0.0.1:${port}/webhooks/clerk`], { CLERK_WEBHOOK_SIGNING_SECRET: SECRET, CLERK_SYNC_DATA_DIR: dirs.make() });
    expect(r.stdout).toMatch(new RegExp(`✗ endpoint\\s+http://127\\.0\\.0\\.1:${port}/webhooks/clerk is unreachable: .*ECONNREFUSED`));
    expect(r.stdout).toContain('nothing listens there');
    expect(r.stdout).toMatch(/- signature\s+not tested: the endpoint did not answer/);
    expect(r.status).toBe(1);
  });

  it('names CLERK_WEBHOOK_SIGNING_SECRET when there is no secret to sign with, exit 1', async () => {
    const port = await closedPort();
    const r = await runCli(['doctor', '--url', `http://127.0.0.1:${port}/webhooks/clerk`], { CLERK_SYNC_DATA_DIR: dirs.make() });
    expect(r.stdout).toMatch(/✗ webhook secret\s+CLERK_WEBHOOK_SIGNING_SECRET is not set/);
    expect(r.stdout).toMatch(/- endpoint\s+no test event sent: there is no valid CLERK_WEBHOOK_SIGNING_SECRET to sign it with/);
    expect(r.status).toBe(1);
  });
});
