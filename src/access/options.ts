/** Options shared by the read-side helpers. */
import { DEFAULT_SCHEMA, quoteIdentifier } from '../db/identifiers.js';

export interface AccessOptions {
  /** The Postgres schema clerk-sync writes to. @default 'clerk' */
  schema?: string;
  /**
   * Also honour the grants in users.public_metadata (`role`, `permissions`, `organizationId`: the
   * JWT-claims model) for the metadata's organization. Off by default: metadata is writable from
   * anything holding a Clerk secret key, memberships are Clerk's own record.
   * @default false
   */
  metadataGrants?: boolean;
}

export function schemaOf(options: AccessOptions | undefined): string {
  return quoteIdentifier(options?.schema ?? DEFAULT_SCHEMA);
}
