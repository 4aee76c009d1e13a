/**
 * A bound on JSON nesting, checked on the raw bytes before anything parses them recursively.
 * Postgres parses jsonb recursively: about 20,000 levels fail with "stack depth limit exceeded"
 * (an error the group commit treats as batch-wide, failing the neighbours' deliveries too), and
 * PGlite stops answering altogether past about 15,000. Clerk's payloads nest a few levels deep.
 */

/** Deepest nesting of arrays and objects accepted in a webhook body. */
export const MAX_JSON_DEPTH = 512;

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
