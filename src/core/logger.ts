/**
 * The default logger: pino JSON on stdout. Callers log ids, types, statuses and timings only;
 * the redaction list is a second line of defence for anything personal or secret that slips in.
 */
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'secret', '*.secret', 'secrets', 'signature', '*.signature', 'headers', '*.headers', 'body', '*.body', 'payload', '*.payload',
  'email', '*.email', 'email_address', '*.email_address', 'email_addresses', '*.email_addresses', 'primary_email', '*.primary_email',
  'phone', '*.phone', 'phone_number', '*.phone_number', 'phone_numbers', '*.phone_numbers',
  'first_name', '*.first_name', 'last_name', '*.last_name', 'name', '*.name', 'username', '*.username',
  'token', '*.token', 'authorization', '*.authorization', 'cookie', '*.cookie', 'databaseUrl', '*.databaseUrl',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'clerk-sync' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}

export type { Logger };
