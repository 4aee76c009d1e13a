/**
 * Slack incoming webhooks: one message per sign-up. Slack answers 200 with the body `ok`, or an
 * error code as plain text (https://api.slack.com/messaging/webhooks#handling_errors):
 * `invalid_payload` (400), `action_prohibited` (403), `no_service`/`channel_not_found` (404),
 * `channel_is_archived`/`no_active_hooks` (410) mean the message or the hook is wrong and will
 * stay wrong; 429 (with Retry-After) and 5xx are worth retrying. Incoming webhooks take no
 * idempotency key, so a send whose answer was lost is not retried (it could post twice): the row
 * goes dead as in doubt, see docs/side-effects.md.
 */
import { BUILTIN_KINDS, parseRetryAfter, type OutboxMessage, type SendResult, type Sender, type SlackSignupData } from '../core/sender.js';
import { resolveTemplates, type SlackMessage, type Templates } from './templates.js';

export const SLACK_KINDS = { signup: BUILTIN_KINDS.slackSignup } as const;

export interface SlackSenderOptions {
  /** `https://hooks.slack.com/services/…` */
  webhookUrl: string;
  templates?: Partial<Templates>;
}

export function createSlackSender(options: SlackSenderOptions): Sender {
  const url = new URL(options.webhookUrl).toString();
  const templates = resolveTemplates(options.templates);
  return {
    kind: SLACK_KINDS.signup,
    // Incoming webhooks take no idempotency key: a send whose fate is unknown is not repeated.
    deduplicates: false,
    async send(message: OutboxMessage, { signal }) {
      let body: SlackMessage;
      try {
        body = await templates.slackSignup(message.payload as SlackSignupData);
      } catch (error) {
        return { ok: false, retryable: false, error: `template failed: ${(error as Error)?.message ?? String(error)}` };
      }
      return postToSlack(url, body, signal);
    },
  };
}

const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export async function postToSlack(url: string, body: SlackMessage, signal: AbortSignal): Promise<SendResult> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
    const reason = `slack request failed: ${(error as Error)?.message ?? String(error)}${typeof cause?.code === 'string' ? ` (${cause.code})` : ''}`;
    // A connection that was never made sent nothing; any other break may have come after Slack posted.
    return { ok: false, retryable: true, error: reason, inDoubt: !NOT_CONNECTED.has(String(cause?.code)) };
  }
  const text = (await response.text().catch(() => '')).slice(0, 200);
  if (response.ok) return { ok: true, detail: text || undefined };
  // Slack answers errors with a code (`invalid_payload`, `channel_not_found`); anything else may
  // echo the message, so it is not copied into logs or outbox.last_error.
  const code = text.trim();
  const error = `slack ${response.status}: ${/^[a-z0-9_]{1,64}$/.test(code) ? code : code ? '(error body withheld)' : response.statusText}`;
  if (response.status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return retryAfterMs === undefined ? { ok: false, retryable: true, error } : { ok: false, retryable: true, error, retryAfterMs };
  }
  if (response.status >= 500 || response.status === 408) return { ok: false, retryable: true, error };
  return { ok: false, retryable: false, error };
}
