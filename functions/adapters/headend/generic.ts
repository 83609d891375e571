import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs } from '../../domain/backoff.ts';
import { createRateLimiter } from './rate-limiter.ts';

export type HeadendCommand = { transactionId: string; smartcardCaId: string; priority: 'REGULAR' | 'EXPRESS' };

/**
 * `transient` reasons: `UNAUTHORIZED` (401: the secret is wrong, an operator problem), `RATE_LIMITED` (429),
 * `SERVER_ERROR` (5xx), `TIMEOUT`, `ABORTED` (the caller's signal), `CONNECTION_ERROR` (refused, reset,
 * DNS), `INVALID_RESPONSE` (a body that is not the protocol's), `UNEXPECTED_STATUS` (1xx/2xx/3xx other
 * than 200), `SECRET_UNAVAILABLE` (the secret could not be resolved). `detail` is a low-level hint for logs
 * (an error code such as ECONNRESET); it never carries the secret.
 */
export type HeadendOutcome =
  | { kind: 'accepted'; referenceNumber: string; request: string; response: string }
  | { kind: 'rejected'; errorCode: string; errorDescription: string; request: string; response: string }
  | { kind: 'transient'; reason: string; status?: number; detail?: string };

export interface HeadendClient {
  /** Never throws: every failure is an outcome. */
  send(command: HeadendCommand, signal?: AbortSignal): Promise<HeadendOutcome>;
}

export type HttpHeadendClientOptions = {
  /** Base URL; commands are POSTed to `${url}/commands`. */
  url: string;
  /** Resolved on every attempt, so the caller caches it; never logged, never put in an outcome. */
  secret: () => Promise<string>;
  timeoutMs: number;
  maxConcurrency?: number;
  maxPerSecond?: number;
  /** In-process retries of transient outcomes (except UNAUTHORIZED and ABORTED); default 1. */
  retries?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
};

export const HEADEND_PROTOCOL_ERROR = 'HEADEND_PROTOCOL_ERROR';

const DEFAULT_RETRIES = 1;
const DEFAULT_RETRY_BASE_MS = 100;
const DEFAULT_RETRY_CAP_MS = 2000;
// The reply is stored on the provisioning request; an HTML error page from a proxy must not bloat the item.
const MAX_STORED_UNEXPECTED_BODY = 2048;

export function createHttpHeadendClient(options: HttpHeadendClientOptions): HeadendClient {
  const endpoint = `${options.url.replace(/\/+$/, '')}/commands`;
  const retries = Math.max(0, options.retries ?? DEFAULT_RETRIES);
  const backoff = {
    baseMs: options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS,
    capMs: options.retryCapMs ?? DEFAULT_RETRY_CAP_MS,
  };
  const limiter = createRateLimiter({ maxConcurrency: options.maxConcurrency, maxPerSecond: options.maxPerSecond });

  async function attempt(request: string, signal: AbortSignal | undefined): Promise<HeadendOutcome> {
    let secret: string;
    try {
      // A trailing newline from a secret written from a file would otherwise make the header invalid.
      secret = (await options.secret()).trim();
    } catch (error) {
      return { kind: 'transient', reason: 'SECRET_UNAVAILABLE', detail: errorName(error) };
    }
    if (secret === '') return { kind: 'transient', reason: 'SECRET_UNAVAILABLE', detail: 'empty' };
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    let status: number;
    let response: string;
    try {
      const reply = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', accept: 'application/json' },
        body: request,
        // Following a redirect would resend the command somewhere else; a redirect is a misconfiguration.
        redirect: 'manual',
        signal: combined,
      });
      status = reply.status;
      // The body read is under the same signal, so a reply that stalls mid-body also times out.
      response = await reply.text();
    } catch (error) {
      if (signal?.aborted) return { kind: 'transient', reason: 'ABORTED' };
      if (timeout.aborted) return { kind: 'transient', reason: 'TIMEOUT' };
      return { kind: 'transient', reason: 'CONNECTION_ERROR', detail: connectionErrorCode(error) };
    }
    return classify(status, request, response);
  }

  return {
    async send(command, signal) {
      const request = JSON.stringify({
        command: 'CLEAR_PIN',
        transaction_id: command.transactionId,
        smartcard_ca_id: command.smartcardCaId,
        priority: command.priority,
      });
      // What is answered if the caller aborts before any attempt got a reply.
      let outcome: HeadendOutcome = { kind: 'transient', reason: 'ABORTED' };
      for (let attemptNumber = 0; attemptNumber <= retries; attemptNumber += 1) {
        if (attemptNumber > 0) {
          try {
            await sleep(backoffDelayMs(attemptNumber, backoff), undefined, { signal });
          } catch {
            return outcome;
          }
        }
        try {
          outcome = await limiter.run(() => attempt(request, signal), signal);
        } catch {
          // attempt() never throws: the limiter rejected because the caller aborted while waiting for a slot.
          return outcome;
        }
        if (!isRetryable(outcome)) return outcome;
      }
      return outcome;
    },
  };
}

function isRetryable(outcome: HeadendOutcome): boolean {
  // A wrong secret will not fix itself within a backoff, and an aborted caller wants no more attempts.
  return outcome.kind === 'transient' && outcome.reason !== 'UNAUTHORIZED' && outcome.reason !== 'ABORTED';
}

function classify(status: number, request: string, response: string): HeadendOutcome {
  if (status === 401) return { kind: 'transient', reason: 'UNAUTHORIZED', status };
  if (status === 429) return { kind: 'transient', reason: 'RATE_LIMITED', status };
  if (status >= 500) return { kind: 'transient', reason: 'SERVER_ERROR', status };
  if (status === 200) {
    const body = parseObject(response);
    if (body?.result === 'ACCEPTED' && isNonEmptyString(body.reference_number)) {
      return { kind: 'accepted', referenceNumber: body.reference_number, request, response };
    }
    return { kind: 'transient', reason: 'INVALID_RESPONSE', status };
  }
  if (status === 422) {
    const body = parseObject(response);
    if (body?.result === 'REJECTED' && isNonEmptyString(body.error_code)) {
      const errorDescription = typeof body.error_description === 'string' ? body.error_description : '';
      return { kind: 'rejected', errorCode: body.error_code, errorDescription, request, response };
    }
    return { kind: 'transient', reason: 'INVALID_RESPONSE', status };
  }
  if (status >= 400) {
    return {
      kind: 'rejected',
      errorCode: HEADEND_PROTOCOL_ERROR,
      errorDescription: `The headend refused the command with HTTP ${status}.`,
      request,
      response: response.slice(0, MAX_STORED_UNEXPECTED_BODY),
    };
  }
  return { kind: 'transient', reason: 'UNEXPECTED_STATUS', status };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

// undici reports socket failures as TypeError('fetch failed') with the system error as `cause`.
function connectionErrorCode(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') {
    return cause.code;
  }
  return errorName(error);
}
