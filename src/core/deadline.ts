/**
 * Waiting for a promise no longer than a deadline, without cancelling it (a query in flight cannot
 * be taken back; it settles unheard). Used by the delivery deadline and the readiness check.
 * Leaf module.
 */

export const TIMED_OUT: unique symbol = Symbol('timed out');

/** Settles with the promise, or with TIMED_OUT at `deadline` (a `performance.now()` time); the promise keeps running. */
export function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | typeof TIMED_OUT> {
  const left = deadline - performance.now();
  if (left === Infinity) return promise;
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, left));
  });
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}
