/** The Postgres schema every clerk-sync table lives in. Migrations are written for `clerk`; the
 * migrator rewrites the name when another one is configured. */
import { pgSchema } from 'drizzle-orm/pg-core';

export const clerk = pgSchema('clerk');
