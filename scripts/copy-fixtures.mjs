// Copies the example Clerk events that `clerk-sync send` signs into dist/, so the published
// package carries them.
import { cpSync, existsSync } from 'node:fs';

const from = new URL('../src/clerk/examples/', import.meta.url);
if (existsSync(from)) cpSync(from, new URL('../dist/clerk/examples/', import.meta.url), { recursive: true });
