/**
 * The options are validated at construction without zod (src/core/options-schema.ts): each bad
 * option is refused with a message that names it and says what was expected, and valid options
 * resolve to the documented defaults.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig, type ClerkSyncOptions } from '../../src/core/config.js';
import { ClerkSyncError } from '../../src/core/errors.js';
import { safeParse, z } from '../../src/core/options-schema.js';

const refusal = (options: unknown): string => {
  try {
    resolveConfig(options as ClerkSyncOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ClerkSyncError);
    expect((error as ClerkSyncError).code).toBe('invalid_config');
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('options validation', () => {
  it.each([
    [{ databaseUrl: '' }, 'databaseUrl: must not be empty'],
    [{ schema: 'Clerk' }, 'schema: lowercase letters, digits and underscores'],
    [{ mode: 'batch' }, 'mode: expected "worker" or "inline", got a string'],
    [{ maxBodyBytes: 1.5 }, 'maxBodyBytes: must be a whole number, got 1.5'],
    [{ maxBodyBytes: 0 }, 'maxBodyBytes: must be greater than 0, got 0'],
    [{ maxBodyBytes: Number.NaN }, 'maxBodyBytes: expected a finite number, got NaN'],
    [{ poolSize: '10' }, 'poolSize: expected a finite number, got a string'],
    [{ autoMigrate: 'yes' }, 'autoMigrate: expected true or false, got a string'],
    [{ worker: { pollIntervalMs: 5 } }, 'worker.pollIntervalMs: must be at least 10, got 5'],
    [{ worker: { batchSize: 10_000 } }, 'worker.batchSize: must be at most 5000, got 10000'],
    [{ worker: { batchsize: 10 } }, 'worker: unknown option "batchsize"'],
    [{ rateLimit: { failed: -1 } }, 'rateLimit.failed: must be 0 or more, got -1'],
    [{ adminToken: 'short' }, 'adminToken: use at least 16 characters'],
    [{ clerkApiUrl: 'not a url' }, 'clerkApiUrl: must be a URL'],
    [{ trustProxy: true }, 'trustProxy: expected false or a string, got true'],
    [{ trustProxy: 'x forwarded' }, 'trustProxy: a header name, optionally :hops'],
    [{ allowNetworks: ['10.0.0.0/8', 7] }, 'allowNetworks.1: expected a string, got 7'],
    [{ allowNetworks: '10.0.0.0/8' }, 'allowNetworks: expected an array of strings, got a string'],
    [{ secret: 42 }, 'secret: expected a string or an array of strings, got 42'],
    [{ db: {} }, 'db: is not a value of the documented type'],
    [{ now: 1 }, 'now: is not a value of the documented type'],
    [{ intake: null }, 'intake: expected an object, got null'],
    [{ secrets: 'whsec_x' }, 'options: unknown option "secrets"'],
  ])('refuses %j with a message naming the option', (options, message) => {
    expect(refusal(options)).toContain(message);
  });

  it('reports every bad option at once', () => {
    expect(refusal({ mode: 'x', poolSize: 0 })).toMatch(/mode: .*; poolSize: /);
  });

  it('refuses what is not an options object', () => {
    expect(refusal([])).toContain('options: expected an object, got an array');
  });

  it('fills in the defaults, and each instance gets its own copy of a default object', () => {
    const a = resolveConfig({});
    const b = resolveConfig({ intake: { apply: false } });
    expect(a).toMatchObject({ dataDir: './.clerk-sync', schema: 'clerk', mode: 'worker', deleteMode: 'soft', maxBodyBytes: 1048576, trustProxy: false });
    expect(a.intake).toEqual({ maxInFlight: 6, maxBatch: 500, apply: true });
    expect(b.intake).toEqual({ maxInFlight: 6, maxBatch: 500, apply: false });
    expect(a.worker).not.toBe(resolveConfig({}).worker);
    expect(Object.isFrozen(a)).toBe(true);
    expect('databaseUrl' in a).toBe(false);
  });

  it('keeps what is valid as given', () => {
    const logger = { info: () => undefined };
    const config = resolveConfig({ secret: ['whsec_a', 'whsec_b'], trustProxy: 'x-forwarded-for:2', logger: logger as never, logLevel: 'debug', resend: { apiKey: 're_x', from: 'a@example.com' } });
    expect(config.secret).toEqual(['whsec_a', 'whsec_b']);
    expect(config.trustProxy).toBe('x-forwarded-for:2');
    expect(config.logger).toBe(logger);
    expect(config.resend).toEqual({ apiKey: 're_x', from: 'a@example.com' });
    expect(resolveConfig({ logger: false }).logger).toBe(false);
  });

  it('a union reports the errors of the option whose type matched', () => {
    const schema = z.union([z.literal(false), z.string().min(3, 'too short')]);
    expect(safeParse(schema, 'ab').issues).toEqual([{ path: [], message: 'too short' }]);
    expect(safeParse(schema, false).issues).toEqual([]);
  });
});
