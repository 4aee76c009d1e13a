/**
 * The two-command start: `clerk-sync serve` on the embedded database in dev mode (generates and
 * prints a secret and the send command), `send` delivers a signed example to it, production
 * mode refuses to start without a secret, and SIGTERM stops it with exit code 0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../support/temp-dirs.js';

const CLI = new URL('../../src/cli/index.ts', import.meta.url).pathname;
const cwd = new URL('../..', import.meta.url).pathname;

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['CLERK_WEBHOOK_SIGNING_SECRET', 'CLERK_WEBHOOK_SECRET', 'DATABASE_URL', 'NODE_ENV', 'PORT']) delete env[k];
  return { ...env, ...extra };
}

function runCli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd, env: cleanEnv(env), encoding: 'utf8', timeout: 60_000 });
}

function startServe(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0', '--host', '127.0.0.1'], { cwd, env: cleanEnv(env) });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 45_000);
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, output: () => out, url: m[1]! });
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
}

const dirs = tempDirs('clerk-sync-cli-');
const tempDir = dirs.make;
afterAll(dirs.removeAll);

describe('clerk-sync serve', () => {
  it('runs in dev mode on PGlite with a generated secret, accepts `send`, and stops on SIGTERM', async () => {
    const dataDir = tempDir();
    const { child, output, url } = await startServe({ CLERK_SYNC_DATA_DIR: dataDir });
    try {
      const secret = readFileSync(join(dataDir, 'webhook-secret'), 'utf8').trim();
      expect(secret).toMatch(/^whsec_/);
      expect(output()).toContain(secret);
      expect(output()).toContain('clerk-sync send user.created');
      const sent = runCli(['send', 'user.created', '--url', url], { CLERK_SYNC_DATA_DIR: dataDir });
      expect(sent.stdout).toMatch(/user\.created → 200/);
      expect(sent.status).toBe(0);
      const health = await fetch(url.replace('/webhooks/clerk', '/healthz'));
      expect(health.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
  });

  it('refuses to start in production without a secret and says where to find it', () => {
    const r = runCli(['serve', '--port', '0'], { NODE_ENV: 'production', CLERK_SYNC_DATA_DIR: tempDir() });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CLERK_WEBHOOK_SIGNING_SECRET');
    expect(r.stderr).toContain('Clerk Dashboard');
    const flag = runCli(['serve', '--production', '--port', '0'], { CLERK_SYNC_DATA_DIR: tempDir() });
    expect(flag.status).toBe(1);
  });

  it('refuses a malformed secret at start-up, naming the problem', () => {
    const r = runCli(['serve', '--port', '0'], { CLERK_WEBHOOK_SIGNING_SECRET: 'whsec_not*base64', CLERK_SYNC_DATA_DIR: tempDir() });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/secret/i);
    expect(r.stderr).not.toContain('not*base64');
  });

  it('prints help for each command and rejects unknown ones', () => {
    for (const cmd of ['serve', 'migrate', 'send']) {
      const r = runCli([cmd, '--help'], {});
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`clerk-sync ${cmd}`);
      expect(r.stdout).toContain('Exit codes');
    }
    const unknown = runCli(['nope'], {});
    expect(unknown.status).toBe(2);
    // The top-level help: one whole sentence per command, within 100 columns.
    const top = runCli(['--help'], {});
    expect(top.status).toBe(0);
    const lines = top.stdout.split('\n').filter((l) => /^  [a-z]+ +\S/.test(l));
    expect(lines.map((l) => l.trim().split(/\s+/)[0])).toEqual(['serve', 'worker', 'drain', 'replay', 'migrate', 'send', 'status', 'doctor', 'backfill', 'reconcile', 'reproject', 'prune']);
    for (const line of lines) {
      expect(line, line).toMatch(/\.$/);
      expect(line.length, line).toBeLessThanOrEqual(110);
    }
  });

  it('status on an embedded database held by another process says so once, naming the process', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'clerk-sync.pid'), String(process.pid));
    const r = runCli(['status'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(r.status).toBe(1);
    expect(r.stderr.split(`in use by process ${process.pid}`).length - 1, r.stderr).toBe(1);
  });

  it('status and replay from a second terminal ask the serve that holds the embedded database', async () => {
    const dataDir = tempDir();
    const serve = await startServe({ CLERK_SYNC_DATA_DIR: dataDir });
    try {
      const socket = join(dataDir, 'control.sock');
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      const sent = runCli(['send', 'user.created', '--url', serve.url], { CLERK_SYNC_DATA_DIR: dataDir });
      expect(sent.status, sent.stderr).toBe(0);
      const status = runCli(['status'], { CLERK_SYNC_DATA_DIR: dataDir });
      expect(status.status, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/applied\s+1/);
      expect(status.stdout).toContain('OK');
      const json = JSON.parse(runCli(['status', '--json'], { CLERK_SYNC_DATA_DIR: dataDir }).stdout);
      expect(json.inbox.byStatus).toEqual({ applied: 1 });
      const replay = runCli(['replay', '--all'], { CLERK_SYNC_DATA_DIR: dataDir });
      expect(replay.status, replay.stderr).toBe(0);
      expect(replay.stdout).toContain('Queued 1 event to be applied again.');
      expect(replay.stdout).toContain('running clerk-sync serve');
    } finally {
      serve.child.kill('SIGTERM');
      await new Promise((resolve) => serve.child.once('exit', resolve));
    }
    expect(existsSync(join(dataDir, 'control.sock'))).toBe(false);
    // Once serve is gone, status opens the database itself: serve's worker took the replayed event
    // (stale: the row already holds that version).
    const after = runCli(['status'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(after.status, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/stale\s+1/);
  });

  it('serve says in one line what to fix when the port is taken or the database is not there', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const taken = runCli(['serve', '--port', String(port), '--host', '127.0.0.1'], { CLERK_SYNC_DATA_DIR: tempDir() });
      expect(taken.status).toBe(1);
      expect(taken.stderr.trim()).toBe(`clerk-sync serve: the port 127.0.0.1:${port} is already in use: stop what listens there, or choose another with --port (or PORT)`);
      const refused = runCli(['serve', '--port', '0'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port === 1 ? 2 : 1}/none`, CLERK_WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}` });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('the database refused the connection');
      expect(refused.stderr).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });

  it('the embedded database is its owner\'s alone whatever the umask (folders 0700, files 0600), and doctor warns about a looser folder', () => {
    const dataDir = tempDir();
    chmodSync(dataDir, 0o755);
    const loose = runCli(['doctor'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(loose.stdout).toMatch(/data folder.*0755: other local users can read the embedded database/);
    const r = spawnSync('sh', ['-c', `umask 000 && exec "${process.execPath}" --import tsx "${CLI}" migrate`], { cwd, env: cleanEnv({ CLERK_SYNC_DATA_DIR: dataDir }), encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const loosened: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const mode = statSync(path).mode & 0o777;
        if (entry.isDirectory()) {
          if (mode !== 0o700) loosened.push(`${path} ${mode.toString(8)}`);
          walk(path);
        } else if (mode & 0o077) loosened.push(`${path} ${mode.toString(8)}`);
      }
    };
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    walk(dataDir);
    expect(loosened).toEqual([]);
    expect(runCli(['doctor'], { CLERK_SYNC_DATA_DIR: dataDir }).stdout).toMatch(/data folder.*is 0700/);
  });

  it('migrate applies migrations to the embedded database', () => {
    const dataDir = tempDir();
    const r = runCli(['migrate'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Applied');
    const again = runCli(['migrate'], { CLERK_SYNC_DATA_DIR: dataDir });
    expect(again.stdout).toContain('up to date');
  });
});
