/** Options shared by the read-side helpers. */
import { DEFAULT_SCHEMA, quoteIdentifier } from '../db/identifiers.js';

export interface AccessOptions {
  /** The Postgres schema clerk-sync writes to. @default 'clerk' */
  schema?: string;
}

export function schemaOf(options: AccessOptions | undefined): string {
  return quoteIdentifier(options?.schema ?? DEFAULT_SCHEMA);
}
