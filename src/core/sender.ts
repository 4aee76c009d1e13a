/**
 * The Sender port: how a side effect leaves the process. A sender gets one outbox message and
 * says whether it went out, failed for a reason worth retrying, or failed for good; it never
 * sees the database (the dispatcher in `outbox/` owns rows, retries and dead letters). Leaf
 * module: imports nothing internal.
 */

/** One side effect as a sender sees it: what, about what, with which payload. */
export interface OutboxMessage {
  /** The outbox row id. */
  readonly id: number;
  /** e.g. `email.welcome`, `slack.signup`, or a kind you registered. */
  readonly kind: string;
  /** What the effect is about (a user id for a welcome email): unique per kind. */
  readonly key: string;
  readonly payload: unknown;
  /** The inbox event (svix id) that caused it, when there is one. */
  readonly eventId: string | null;
  /** 1 on the first try. */
  readonly attempt: number;
  /**
   * Stable for the row across retries and processes: pass it to providers that deduplicate
   * (Resend's `Idempotency-Key`), so a retry after a lost answer is not a second effect.
   */
  readonly idempotencyKey: string;
}

export type SendResult =
  | { ok: true; /** Provider's id or a short note, kept for logs. */ detail?: string }
  | {
      ok: false;
      retryable: true;
      error: string;
      /** From a 429's Retry-After. */
      retryAfterMs?: number;
      /** The request may have reached the provider (the connection broke after it was sent): see `Sender.deduplicates`. */
      inDoubt?: boolean;
    }
  | { ok: false; retryable: false; error: string };

export interface SendOptions {
  /** Aborted at the send timeout and at shutdown; pass it to fetch. */
  signal: AbortSignal;
}

export interface Sender {
  readonly kind: string;
  send(message: OutboxMessage, options: SendOptions): Promise<SendResult>;
  /**
   * Does the provider drop a repeat of a send it already accepted (by `idempotencyKey`)? Then a
   * send whose fate is unknown (its dispatcher stopped mid-send, or it timed out) is simply sent
   * again. `false` (Slack): such a row is not sent again but goes `dead` as in doubt, for an
   * operator to check and replay, because a repeat would be seen twice. @default true
   */
  readonly deduplicates?: boolean;
}

/**
 * Throw from a handler to dead-letter the row at once (a payload the provider will never
 * accept). Any other error is retried with backoff until the attempts run out.
 */
export class PermanentSendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentSendError';
  }
}

/** Throw from a handler to retry no sooner than `retryAfterMs` (e.g. your API's rate limit). */
export class RetryLaterError extends Error {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryLaterError';
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Undefined when
 * absent or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The built-in kinds, and the payload each carries: the contract between the rules that write
 * them (apply/side-effects.ts) and the senders that deliver them (senders/).
 */
export const BUILTIN_KINDS = {
  welcomeEmail: 'email.welcome',
  adminWelcomeEmail: 'email.admin_welcome',
  emailRelay: 'email.relay',
  slackSignup: 'slack.signup',
} as const;

/** Payload of `email.welcome` rows. */
export interface WelcomeEmailData {
  to: string;
  userId: string;
  firstName: string | null;
  lastName: string | null;
  username: string | null;
}

/** Payload of `email.admin_welcome` rows. */
export interface AdminWelcomeEmailData {
  to: string;
  userId: string;
  membershipId: string;
  organizationId: string;
  organizationName: string | null;
  role: string;
  firstName: string | null;
  lastName: string | null;
}

/** Payload of `email.relay` rows: Clerk's own rendered email, delivered as is. */
export interface RelayEmailData {
  to: string;
  subject: string;
  html: string | null;
  text: string | null;
  emailId: string;
  slug: string | null;
  userId: string | null;
}

/** Payload of `slack.signup` rows. */
export interface SlackSignupData {
  userId: string;
  name: string | null;
  email: string | null;
}

/** A rendered email (what a template returns). */
export interface EmailContent {
  subject: string;
  html: string;
  text: string;
}

/** A Slack incoming-webhook message (what a template returns). */
export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

type Awaitable<T> = T | Promise<T>;

/** Templates of the built-in messages; any you leave out keeps its default. */
export interface Templates {
  welcomeEmail: (data: WelcomeEmailData) => Awaitable<EmailContent>;
  adminWelcomeEmail: (data: AdminWelcomeEmailData) => Awaitable<EmailContent>;
  slackSignup: (data: SlackSignupData) => Awaitable<SlackMessage>;
}
