import type { HeadendClient, HeadendOutcome } from '../../use-cases/ports.ts';
import type { Credential } from './credential.ts';
import { connectionErrorCode, errorName, MAX_STORED_UNEXPECTED_BODY, parseObject } from './http-reply.ts';
import { createRateLimiter } from './rate-limiter.ts';

export type GenericHeadendOptions = {
  /** Base URL; commands are POSTed to `${url}/commands`. */
  url: string;
  /** The bearer secret; never logged, never put in an outcome. */
  secret: Credential<string>;
  timeoutMs: number;
  maxConcurrency?: number;
  maxPerSecond?: number;
};

export const HEADEND_PROTOCOL_ERROR = 'HEADEND_PROTOCOL_ERROR';

/**
 * The `generic` protocol of SPEC §4.1: `POST {url}/commands` with a bearer secret, idempotent on
 * `transaction_id`. One call per `send`; retrying is the retry decision's business (domain/retry-policy.ts).
 */
export function createGenericHeadendClient(options: GenericHeadendOptions): HeadendClient {
  const endpoint = `${options.url.replace(/\/+$/, '')}/commands`;
  const limiter = createRateLimiter({ maxConcurrency: options.maxConcurrency, maxPerSecond: options.maxPerSecond });

  async function call(request: string, signal: AbortSignal | undefined): Promise<HeadendOutcome> {
    let secret: string;
    try {
      // A trailing newline from a secret written from a file would otherwise make the header invalid.
      secret = (await options.secret.get()).trim();
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
    // A refused secret may have been corrected meanwhile: the next call reads it again.
    if (status === 401) options.secret.refresh();
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
      try {
        return await limiter.run(() => call(request, signal), signal);
      } catch {
        // call() never throws: the limiter rejected because the caller aborted while waiting for a slot.
        return { kind: 'transient', reason: 'ABORTED' };
      }
    },
  };
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

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
