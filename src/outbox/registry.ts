/**
 * Which kinds of side effect this process can send, and how. Built-in senders (Resend, Slack)
 * and your own handlers register the same way; the dispatcher claims only registered kinds, so
 * rows of a kind registered elsewhere (another service sharing the database) are left to it.
 */
import { PermanentSendError, RetryLaterError, type OutboxMessage, type SendOptions, type SendResult, type Sender } from '../core/sender.js';

/**
 * Your side effect: resolve (or return `{ ok: true }`) when done. Throw to retry with backoff,
 * throw `PermanentSendError` to dead-letter at once, `RetryLaterError` to retry no sooner than
 * a given delay; or return a `SendResult` yourself.
 */
export type OutboxHandler = (message: OutboxMessage, options: SendOptions) => Promise<SendResult | void> | SendResult | void;

export class OutboxRegistry {
  readonly #senders = new Map<string, Sender>();

  /**
   * @example
   * sync.outbox.register('crm.sync', async (row, { signal }) => {
   *   await fetch('https://crm.example/api/contacts', { method: 'POST', body: JSON.stringify(row.payload), signal });
   * });
   */
  register(kind: string, handler: OutboxHandler | Sender): this {
    if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(kind)) throw new TypeError(`Invalid outbox kind "${kind}": use letters, digits, and . _ : -`);
    const sender: Sender = typeof handler === 'function' ? fromHandler(kind, handler) : handler;
    if (sender.kind !== kind) throw new TypeError(`Sender for "${sender.kind}" registered as "${kind}"`);
    this.#senders.set(kind, sender);
    return this;
  }

  unregister(kind: string): boolean {
    return this.#senders.delete(kind);
  }

  get(kind: string): Sender | undefined {
    return this.#senders.get(kind);
  }

  has(kind: string): boolean {
    return this.#senders.has(kind);
  }

  kinds(): string[] {
    return [...this.#senders.keys()];
  }
}

function fromHandler(kind: string, handler: OutboxHandler): Sender {
  return {
    kind,
    async send(message, options) {
      try {
        const result = await handler(message, options);
        return result ?? { ok: true };
      } catch (error) {
        return classifyThrown(error, options.signal);
      }
    },
  };
}

/** A thrown error as a send result: retryable unless it says otherwise. */
export function classifyThrown(error: unknown, signal?: AbortSignal): SendResult {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof PermanentSendError) return { ok: false, retryable: false, error: message };
  if (error instanceof RetryLaterError) return { ok: false, retryable: true, error: message, retryAfterMs: error.retryAfterMs };
  if ((error as { retryable?: unknown } | null)?.retryable === false) return { ok: false, retryable: false, error: message };
  if (signal?.aborted) return { ok: false, retryable: true, error: `aborted: ${abortReason(signal)}` };
  return { ok: false, retryable: true, error: message || 'handler threw' };
}

export function abortReason(signal: AbortSignal): string {
  const reason = signal.reason as { name?: string; message?: string } | undefined;
  if (reason?.name === 'TimeoutError') return 'timed out';
  return reason?.message ?? 'aborted';
}
