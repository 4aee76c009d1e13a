/** Public entry `clerk-sync/schema`. */
export * from './schema/index.js';
