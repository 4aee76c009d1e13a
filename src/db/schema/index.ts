/** The Drizzle schema of clerk-sync's tables (`clerk-sync/schema`), for typed queries in apps. */
export * from './clerk-schema.js';
export * from './inbox.js';
export * from './projections.js';
export * from './views/access.js';
