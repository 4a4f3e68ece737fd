/**
 * Sends Slack's requests into an app's HTTP endpoint (Bolt's HTTPReceiver at `/slack/events`), signed the
 * way Slack signs them: `x-slack-signature: v0=HMAC_SHA256(secret, "v0:<timestamp>:<raw body>")`. The HTTP
 * answer is the app's `ack()`, timed.
 */
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AppAnswer, SignatureMode } from './types.js';

/** Bolt rejects timestamps older than five minutes; this one is six. */
const STALE_SECONDS = 6 * 60;

export function signatureHeaders(
  signingSecret: string,
  rawBody: string,
  mode: SignatureMode = 'valid',
): Record<string, string> {
  if (mode === 'missing') return {};
  const timestamp = Math.floor(Date.now() / 1000) - (mode === 'stale' ? STALE_SECONDS : 0);
  const secret = mode === 'invalid' ? `${signingSecret}-wrong` : signingSecret;
  const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${digest}` };
}

/** `http://host:port` means Bolt's default endpoint `/slack/events`; a URL with a path is used as is. */
export function eventsUrl(appUrl: string): string {
  const url = new URL(appUrl);
  return url.pathname === '/' ? new URL('/slack/events', url).href : url.href;
}

export async function postToApp(
  appUrl: string,
  rawBody: string,
  contentType: 'application/x-www-form-urlencoded' | 'application/json',
  headers: Record<string, string>,
): Promise<AppAnswer> {
  const started = performance.now();
  const response = await fetch(eventsUrl(appUrl), {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body: rawBody,
  });
  const body = await response.text();
  return { status: response.status, body, ackMs: performance.now() - started };
}
