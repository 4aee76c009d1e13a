/**
 * Error codes and the one error class of clerk-sync.
 * Every error answer written by clerk-sync is `{ "error": { "code", "message" } }` with a code
 * from ERROR_CODES; docs/reference/errors.md lists them (a test keeps the two in step).
 * Leaf module: imports nothing internal.
 */

export const ERROR_CODES = {
  // Delivery (HTTP) errors
  missing_headers: { status: 400, message: 'Missing webhook headers' },
  invalid_timestamp: { status: 400, message: 'The webhook timestamp is not an integer number of seconds' },
  timestamp_too_old: { status: 400, message: 'The webhook timestamp is older than the tolerance' },
  timestamp_too_new: { status: 400, message: 'The webhook timestamp is in the future beyond the tolerance' },
  invalid_signature: { status: 400, message: 'No signature matches the body with any configured secret' },
  invalid_json: { status: 400, message: 'The body is not valid JSON' },
  invalid_event: { status: 400, message: 'The body is not a Clerk event (a JSON object with a string "type" and an object "data")' },
  invalid_id: { status: 400, message: 'The webhook id is too long or has invalid characters' },
  payload_too_large: { status: 413, message: 'The body is larger than the limit' },
  method_not_allowed: { status: 405, message: 'Method not allowed' },
  not_found: { status: 404, message: 'Not found' },
  rate_limited: { status: 429, message: 'Too many requests' },
  forbidden: { status: 403, message: 'Forbidden' },
  unauthorized: { status: 401, message: 'Unauthorized' },
  database_unavailable: { status: 503, message: 'The database is unavailable; the delivery was not stored, retry later' },
  secret_not_configured: { status: 500, message: 'No webhook signing secret is configured (set CLERK_WEBHOOK_SIGNING_SECRET)' },
  cron_secret_not_configured: { status: 500, message: 'No cron secret is configured (set CRON_SECRET)' },
  internal_error: { status: 500, message: 'Internal error' },
  // Configuration and start-up errors (never sent over HTTP)
  invalid_secret: { status: 500, message: 'A webhook signing secret is malformed' },
  invalid_config: { status: 500, message: 'The configuration is invalid' },
  optional_dependency_missing: { status: 500, message: 'A setting needs an optional package that is not installed' },
  migration_failed: { status: 500, message: 'A database migration failed' },
  migration_checksum_mismatch: { status: 500, message: 'An applied migration differs from the one this version ships' },
  database_newer_than_code: { status: 500, message: 'The database has migrations this version of clerk-sync does not know' },
  database_in_use: { status: 500, message: 'The embedded database folder is in use by another process' },
  // Backfill and reconcile (CLI and library)
  backfill_in_progress: { status: 500, message: 'Another backfill is running against this database' },
  // Row-level security (clerk-sync/rls)
  rls_not_enforced: { status: 500, message: 'Row-level security does not apply to this connection' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ClerkSyncError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code].message, options);
    this.name = 'ClerkSyncError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
  }
}

export function errorBody(code: ErrorCode, message?: string): string {
  return JSON.stringify({ error: { code, message: message ?? ERROR_CODES[code].message } });
}

export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
