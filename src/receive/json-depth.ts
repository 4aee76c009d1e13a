/**
 * A bound on JSON nesting, checked on the raw bytes before anything parses them recursively.
 * Postgres parses jsonb recursively: about 20,000 levels fail with "stack depth limit exceeded"
 * (an error the group commit treats as batch-wide, failing the neighbours' deliveries too), and
 * PGlite 0.5 answers some statements with no rows at all, silently, from about 5,500-6,000 levels
 * (measured 2026-12-04: 5,000 fine, 6,000 not). Clerk's own payloads nest a few levels, but
 * metadata is the user's to write: 8 KB of `unsafe_metadata` can nest 4,096 levels (two bytes a
 * level), and a user who does that must not make every later `user.updated` about them fail.
 * 4,608 takes anything Clerk accepts and stays inside what both databases handle.
 */

/** Deepest nesting of arrays and objects accepted in a webhook body. */
export const MAX_JSON_DEPTH = 4608;

/**
 * True when the JSON text nests arrays/objects deeper than `max`. A byte scan is enough: in UTF-8,
 * bytes of multi-byte characters are never ASCII, so brackets and quotes are always themselves.
 * Malformed JSON is not judged here (the parser does that).
 */
export function nestsDeeperThan(body: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === 0x5c) escaped = true;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}
