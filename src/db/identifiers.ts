/** Schema-name handling, done once: every statement uses the quoted name computed here. */
import { ClerkSyncError } from '../core/errors.js';

export const DEFAULT_SCHEMA = 'clerk';

export function quoteIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_$]{0,62}$/.test(name)) {
    throw new ClerkSyncError('invalid_config', `Invalid schema name "${name}": use lowercase letters, digits and underscores`);
  }
  return `"${name}"`;
}

/** Rewrites SQL written for the `clerk` schema to another schema name. */
export function forSchema(sql: string, schema: string): string {
  return schema === DEFAULT_SCHEMA ? sql : sql.replaceAll('"clerk".', `${quoteIdentifier(schema)}.`).replaceAll('"clerk";', `${quoteIdentifier(schema)};`);
}
