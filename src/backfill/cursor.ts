/**
 * Where a backfill is, so that a crash or ^C resumes from the last stored page instead of
 * starting over. The cursor is saved only after the page it covers is committed to the inbox, so
 * a resume at worst lists one page again (harmless: synthetic ids are deterministic).
 *
 * The CLI keeps it in a small JSON file in the data folder; library callers can pass their own
 * store (a row in their database, a KV entry).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ListingName, ResourceName } from './resources.js';

export interface BackfillCursor {
  version: 1;
  /** The listings this run covers, in order; a run with another selection starts over. */
  resources: ListingName[];
  /** Index in `resources` of the listing in progress. */
  step: number;
  /** Offset of the next page of that listing. */
  offset: number;
  /** Organizations listing: the last organization of the page at `offset` whose memberships and invitations are stored. */
  afterOrganization?: string;
  /** Entities listed and newly stored so far, per resource, across resumes. */
  counts: Partial<Record<ResourceName, { listed: number; stored: number }>>;
  startedAt: string;
  updatedAt: string;
}

export interface CursorStore {
  load(): Promise<BackfillCursor | undefined>;
  save(cursor: BackfillCursor): Promise<void>;
  clear(): Promise<void>;
  /** Where it is kept, for messages. */
  readonly describe: string;
}

export function memoryCursorStore(): CursorStore & { current: BackfillCursor | undefined } {
  const store = {
    current: undefined as BackfillCursor | undefined,
    describe: 'memory',
    async load() {
      return store.current ? structuredClone(store.current) : undefined;
    },
    async save(cursor: BackfillCursor) {
      store.current = structuredClone(cursor);
    },
    async clear() {
      store.current = undefined;
    },
  };
  return store;
}

/** Written to a temporary file and renamed, so a crash mid-write leaves the previous cursor intact. */
export function fileCursorStore(path: string): CursorStore {
  return {
    describe: path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return undefined;
        throw error;
      }
      const parsed = JSON.parse(text) as BackfillCursor;
      return parsed.version === 1 ? parsed : undefined;
    },
    async save(cursor) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(cursor, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, path);
    },
    async clear() {
      await rm(path, { force: true });
    },
  };
}
