/**
 * The built-in senders, made from the resolved configuration: Resend for email (on when both an
 * API key and a from address are set), Slack for sign-up messages (on when a webhook URL is set).
 * `notes` says, once, what is on and what is off and why, for the caller to log at start.
 * Senders import core only: they know nothing about the database.
 */
import type { ResolvedConfig } from '../core/config.js';
import type { Sender } from '../core/sender.js';
import { createResendSenders } from './resend.js';
import { createSlackSender } from './slack.js';

export { createResendSenders, classifyResendError, EMAIL_KINDS, RESEND_DEFAULT_BASE_URL, type ResendSenderOptions } from './resend.js';
export { createSlackSender, postToSlack, SLACK_KINDS, type SlackSenderOptions } from './slack.js';
export { defaultTemplates, escapeHtml, escapeSlack, resolveTemplates } from './templates.js';

export interface ConfiguredSenders {
  senders: Sender[];
  email: boolean;
  slack: boolean;
  notes: string[];
}

export function configuredSenders(config: Pick<ResolvedConfig, 'resend' | 'slackWebhookUrl' | 'templates'>): ConfiguredSenders {
  const senders: Sender[] = [];
  const notes: string[] = [];
  const { apiKey, from, baseUrl, replyTo } = config.resend ?? {};
  const email = Boolean(apiKey && from);
  if (apiKey && from) {
    senders.push(...createResendSenders({ apiKey, from, baseUrl, replyTo, templates: config.templates }));
    notes.push(`email on: Resend${baseUrl ? ` at ${baseUrl}` : ''}, from ${from}`);
  } else if (apiKey) notes.push('email off: RESEND_API_KEY is set but CLERK_SYNC_EMAIL_FROM (resend.from) is not');
  else if (from) notes.push('email off: CLERK_SYNC_EMAIL_FROM is set but RESEND_API_KEY (resend.apiKey) is not');
  else notes.push('email off: set RESEND_API_KEY and CLERK_SYNC_EMAIL_FROM to send welcome emails');
  const slack = config.slackWebhookUrl !== undefined;
  if (config.slackWebhookUrl) {
    senders.push(createSlackSender({ webhookUrl: config.slackWebhookUrl, templates: config.templates }));
    notes.push('Slack on: sign-up messages go to the configured incoming webhook');
  } else notes.push('Slack off: set SLACK_WEBHOOK_URL to post sign-up messages');
  return { senders, email, slack, notes };
}
