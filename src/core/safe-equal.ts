/**
 * Constant-time comparison of secrets (the admin token, API keys). Leaf module.
 *
 * `===` stops at the first differing character, so its timing tells an attacker how much of a
 * guess was right. `timingSafeEqual` needs equal lengths and would itself reveal the length, so
 * both sides are hashed first: equal digests mean equal inputs, and the work is the same for
 * any guess.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

type Secret = string | Uint8Array;

/**
 * True when both values are present and byte-for-byte equal (strings as UTF-8).
 * A missing side is never equal, not even to another missing one; callers must still refuse an
 * empty configured token, since `safeEqual('', '')` is true.
 *
 * @example
 * if (!config.adminToken || !safeEqual(presented, config.adminToken)) return unauthorized();
 */
export function safeEqual(a: Secret | null | undefined, b: Secret | null | undefined): boolean {
  const left = createHash('sha256').update(a ?? '').digest();
  const right = createHash('sha256').update(b ?? '').digest();
  const same = timingSafeEqual(left, right);
  return same && a != null && b != null;
}
