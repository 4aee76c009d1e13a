/**
 * The built-in messages and the payloads they are made from. Payloads are facts taken from the
 * event when it is applied (who, which organization); the text is rendered at send time, so a
 * template you fix also fixes the messages still waiting to be retried. Override any template
 * with the `templates` option; defaults are deliberately plain.
 */
import type { Templates } from '../core/sender.js';

export type { AdminWelcomeEmailData, EmailContent, RelayEmailData, SlackMessage, SlackSignupData, Templates, WelcomeEmailData } from '../core/sender.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Slack's mrkdwn needs only these three escaped (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function displayName(first: string | null, last: string | null, fallback: string | null = null): string | null {
  const name = `${first ?? ''} ${last ?? ''}`.trim();
  return name || fallback;
}

export const defaultTemplates: Templates = {
  welcomeEmail(data) {
    const name = displayName(data.firstName, data.lastName, data.username);
    const greeting = name ? `Hi ${name},` : 'Hi,';
    return {
      subject: 'Welcome!',
      text: `${greeting}\n\nWelcome aboard: your account is ready.\n`,
      html: `<p>${escapeHtml(greeting)}</p><p>Welcome aboard: your account is ready.</p>`,
    };
  },
  adminWelcomeEmail(data) {
    const name = displayName(data.firstName, data.lastName);
    const greeting = name ? `Hi ${name},` : 'Hi,';
    const org = data.organizationName ?? 'your organization';
    return {
      subject: `You are now an admin of ${org}`,
      text: `${greeting}\n\nYou are now an admin of ${org}: you can invite members and manage their roles.\n`,
      html: `<p>${escapeHtml(greeting)}</p><p>You are now an admin of <strong>${escapeHtml(org)}</strong>: you can invite members and manage their roles.</p>`,
    };
  },
  slackSignup(data) {
    const who = data.name && data.email ? `${data.name} (${data.email})` : (data.name ?? data.email ?? data.userId);
    return { text: `New user signed up: ${escapeSlack(who)}` };
  },
};

export function resolveTemplates(overrides: Partial<Templates> | undefined): Templates {
  return { ...defaultTemplates, ...(overrides ?? {}) };
}
