/**
 * Optional packages (ioredis, resend): installed only by the deployments whose settings need
 * them, and imported when first used. A missing one is reported with the package to install and
 * the setting that asked for it. Leaf module.
 */
import { ClerkSyncError } from './errors.js';

export function missingPackage(name: string, setting: string, cause: unknown): ClerkSyncError {
  const notFound = (cause as { code?: string } | null)?.code === 'ERR_MODULE_NOT_FOUND';
  return new ClerkSyncError(
    'optional_dependency_missing',
    notFound
      ? `${setting} is set, which needs the "${name}" package: run \`npm install ${name}\``
      : `${setting} is set, but the "${name}" package failed to load: ${(cause as Error)?.message ?? String(cause)}`,
    { cause },
  );
}
