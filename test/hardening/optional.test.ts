/** The error for a missing optional package names it, the install command and the setting that asked for it. */
import { describe, expect, it } from 'vitest';
import { missingPackage } from '../../src/core/optional.js';

describe('missingPackage', () => {
  it('names the package, the npm install to run and the setting', () => {
    const error = missingPackage('ioredis', 'REDIS_URL (rateLimit.redisUrl)', Object.assign(new Error("Cannot find package 'ioredis'"), { code: 'ERR_MODULE_NOT_FOUND' }));
    expect(error).toMatchObject({ code: 'optional_dependency_missing' });
    expect(error.message).toBe('REDIS_URL (rateLimit.redisUrl) is set, which needs the "ioredis" package: run `npm install ioredis`');
  });

  it('says so when the package is there but fails to load', () => {
    const error = missingPackage('resend', 'RESEND_API_KEY (resend.apiKey)', new Error('boom'));
    expect(error.message).toContain('failed to load: boom');
  });
});
