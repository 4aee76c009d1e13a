/**
 * Email through Resend (the `resend` package): welcome emails, admin welcome emails and relayed
 * Clerk emails, one Sender per kind over one client. Every request carries the row's
 * idempotency key, so a retry after a lost answer (timeout, crash before the row was marked
 * sent) is answered by Resend with the first email instead of a second one, for 24 hours.
 *
 * The base URL is passed to the client explicitly (default https://api.resend.com): the package
 * would otherwise read `process.env.RESEND_BASE_URL` on its own, and only the CLI reads the
 * environment here (it maps RESEND_BASE_URL to the `resend.baseUrl` option).
 */
import type { Resend } from 'resend';
import { missingPackage } from '../core/optional.js';
import { BUILTIN_KINDS, parseRetryAfter, type AdminWelcomeEmailData, type OutboxMessage, type RelayEmailData, type SendResult, type Sender, type WelcomeEmailData } from '../core/sender.js';
import { resolveTemplates, type EmailContent, type Templates } from './templates.js';

export const EMAIL_KINDS = { welcome: BUILTIN_KINDS.welcomeEmail, adminWelcome: BUILTIN_KINDS.adminWelcomeEmail, relay: BUILTIN_KINDS.emailRelay } as const;

export const RESEND_DEFAULT_BASE_URL = 'https://api.resend.com';

export interface ResendSenderOptions {
  apiKey: string;
  /** `Acme <hello@acme.com>`: a sender on a domain verified in Resend. */
  from: string;
  /** @default "https://api.resend.com" */
  baseUrl?: string;
  replyTo?: string;
  templates?: Partial<Templates>;
}

type Render = (payload: unknown) => Promise<EmailContent & { to: string }>;

export function createResendSenders(options: ResendSenderOptions): Sender[] {
  // The package is imported with the first email: only deployments that send email install it.
  let client: Promise<Resend> | undefined;
  const connect = (): Promise<Resend> =>
    (client ??= import('resend').then(
      ({ Resend }) => new Resend(options.apiKey, { baseUrl: (options.baseUrl ?? RESEND_DEFAULT_BASE_URL).replace(/\/+$/, '') }),
      (error: unknown) => {
        client = undefined; // installed later: the next attempt finds it
        throw missingPackage('resend', 'RESEND_API_KEY (resend.apiKey)', error);
      },
    ));
  const templates = resolveTemplates(options.templates);
  const renderers: Record<string, Render> = {
    [EMAIL_KINDS.welcome]: async (p) => ({ to: (p as WelcomeEmailData).to, ...(await templates.welcomeEmail(p as WelcomeEmailData)) }),
    [EMAIL_KINDS.adminWelcome]: async (p) => ({ to: (p as AdminWelcomeEmailData).to, ...(await templates.adminWelcomeEmail(p as AdminWelcomeEmailData)) }),
    [EMAIL_KINDS.relay]: async (p) => {
      const r = p as RelayEmailData;
      return { to: r.to, subject: r.subject, html: r.html ?? '', text: r.text ?? '' };
    },
  };
  return Object.entries(renderers).map(([kind, render]) => ({
    kind,
    send: async (message: OutboxMessage, { signal }: { signal: AbortSignal }): Promise<SendResult> => {
      let resend: Resend;
      try {
        resend = await connect();
      } catch (error) {
        // Retried on the outbox's schedule, so the email goes once the package is installed.
        return { ok: false, retryable: true, error: (error as Error).message };
      }
      return sendEmail(resend, options, render, message, signal);
    },
  }));
}

async function sendEmail(client: Resend, options: ResendSenderOptions, render: Render, message: OutboxMessage, signal: AbortSignal): Promise<SendResult> {
  let email: EmailContent & { to: string };
  try {
    email = await render(message.payload);
  } catch (error) {
    // A template that throws on this payload will throw on the next try too.
    return { ok: false, retryable: false, error: `template failed: ${(error as Error)?.message ?? String(error)}` };
  }
  if (!email.to) return { ok: false, retryable: false, error: 'no recipient address' };
  const body = {
    from: options.from,
    to: [email.to],
    subject: email.subject,
    html: email.html || undefined,
    text: email.text || undefined,
    ...(options.replyTo ? { replyTo: options.replyTo } : {}),
  };
  // The package catches network errors and aborts itself and reports them with statusCode null.
  const { data, error, headers } = await client.emails.send(body as Parameters<Resend['emails']['send']>[0], { idempotencyKey: message.idempotencyKey, signal });
  if (!error) return { ok: true, detail: data?.id };
  return classifyResendError(error, headers);
}

/** Resend's error answers as retryable or not (https://resend.com/docs/api-reference/errors). */
export function classifyResendError(error: { statusCode: number | null; name: string; message: string }, headers: Record<string, string> | null): SendResult {
  const status = error.statusCode;
  // The status and Resend's error name say what went wrong; the message can echo the recipient,
  // so it is not copied into logs or outbox.last_error (the outbox page shows that unmasked).
  const text = `resend ${status ?? 'network'} ${/^[a-z0-9_]{1,64}$/.test(error.name) ? error.name : 'error'}`;
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headers?.['retry-after']);
    return retryAfterMs === undefined ? { ok: false, retryable: true, error: text } : { ok: false, retryable: true, error: text, retryAfterMs };
  }
  // Another request with this key is still being processed: ask again shortly.
  if (error.name === 'concurrent_idempotent_requests') return { ok: false, retryable: true, error: text, retryAfterMs: 1000 };
  if (status === null || status >= 500 || status === 408) return { ok: false, retryable: true, error: text };
  // 400/401/403/404/409/422: the request itself is wrong (address, key, domain) and will stay wrong.
  return { ok: false, retryable: false, error: text };
}
