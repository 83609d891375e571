import type { HeadendClient, HeadendOutcome } from '../../use-cases/ports.ts';
import { type CagOperatorAccount, createCagTokenCache } from './cag-token.ts';
import type { Credential } from './credential.ts';
import { HEADEND_PROTOCOL_ERROR } from './generic.ts';
import { connectionErrorCode, MAX_STORED_UNEXPECTED_BODY, parseObject } from './http-reply.ts';
import { createRateLimiter } from './rate-limiter.ts';

/**
 * The `nagra-cag` protocol of SPEC §4.2: the Nagra OpenTV CAS Gateway's PIN reset,
 * `PUT {baseUrl}/cag/v1/{casInstanceName}/devices/{deviceId}/pin` with a Keycloak bearer token (cag-token.ts).
 * Retrying is the retry decision's business (domain/retry-policy.ts); decisions taken where SPEC is silent:
 *
 * - Calls. One `send` makes one PUT, and a second only after a refusal (401, 403, or `"resultCode": "99999:403"`
 *   with any status, HTTP 200 included) and a token renewal; refused again, it is transient `UNAUTHORIZED` (the
 *   alarm; not retried in the same invocation). Every PUT, the second included, waits for the caps on concurrency
 *   and calls per second; token requests do not, they go to Keycloak, not to the headend.
 * - Time. Each HTTP call (token request or PUT) has its own `timeoutMs`; the caller's signal bounds the whole send
 *   (`ABORTED`). A token renewal shared by concurrent sends runs under its own timeout only.
 * - Tokens. Cached per adapter instance and renewed when less than 10 % of the access token's lifetime is left, at
 *   most 30 s before it expires (counted from when the token request was sent); by the refresh grant while the
 *   refresh token lives (the same margin), else, or when Keycloak refuses the refresh, the password grant.
 *   Concurrent sends share one renewal. A token endpoint that is unreachable, times out, or answers anything but
 *   200/400/401/403 or a readable grant is transient `TOKEN_UNAVAILABLE` (detail "token endpoint: …"), except that
 *   a token still alive is used meanwhile. A password grant answered 400/401/403 means wrong operator credentials
 *   (or a client not allowed the grant): transient `UNAUTHORIZED` (detail the OAuth error code only), and the
 *   credential is read afresh at the next try. An operator secret that cannot be read or is empty is
 *   `SECRET_UNAVAILABLE`, as for the generic protocol. Nothing failed is cached.
 * - Refusals. A 403 for a tenant or operator the account is not entitled to (as the simulator answers) ends the
 *   same way, `UNAUTHORIZED` after one renewal: a misconfiguration raises the alarm and keeps the requests PENDING
 *   rather than rejecting them all.
 * - Answers. HTTP 200: each command is OK when its `responseText` is exactly `OK` or its `responseCode` is in
 *   `okCodes` (codes and ids sent as numbers are read as their strings); all OK is accepted with the first command's
 *   `id` or `_id` as reference; else the first failed command decides: its code in `transientCodes` is transient
 *   `CAG_TRANSIENT` (the code in `detail`), any other is rejected `CAG_<responseCode>` with its `responseText`. The
 *   top-level `status` is not read: the commands say what happened. A 200 without commands, with a command that is
 *   not an object, with a failed command without a code, or all OK without a reference on the first command is
 *   transient `INVALID_RESPONSE`, as the generic protocol treats a 200 without `reference_number`.
 *   HTTP 400 is rejected `CAG_BAD_REQUEST`, 404 `UNKNOWN_SMARTCARD` (whatever was not found: the description, from
 *   the body's `resultText`, `responseText`, `message`, `errorMessage`, `error_description`, `description` or `error`,
 *   says what); another 4xx is rejected `HEADEND_PROTOCOL_ERROR` as for the generic protocol; 429 `RATE_LIMITED`,
 *   5xx `SERVER_ERROR`; redirects are not followed (`UNEXPECTED_STATUS`, like any other status).
 * - Stored. `request` is `{"method":"PUT","path":…,"headers":{"nv-tenant-id","operator","x-correlation-id"}}`
 *   (the path from `/cag/v1`, never the Authorization header); `response` the reply body, capped at 2,048
 *   characters unless it is a 200's, with any copy of the access token in it replaced by `[REDACTED]` (a gateway
 *   may echo the request in its errors). The adapter logs nothing; no token or password is in an outcome.
 */

/** The stage's CAG settings (SPEC §4.2) and the caps every headend adapter has. */
export type CagHeadendOptions = {
  /** The gateway's base URL; calls go to `${baseUrl}/cag/v1/…`. */
  baseUrl: string;
  casInstanceName: string;
  /** Sent as the `nv-tenant-id` and `operator` headers. */
  tenantId: string;
  operator: string;
  /** The Keycloak token endpoint and the client the operator account logs in with. */
  tokenUrl: string;
  clientId: string;
  /** The operator account (a JSON secret read with `parseCagOperatorAccount` in AWS); never logged. */
  credential: Credential<CagOperatorAccount>;
  /** `responseCode`s that mean OK besides a `responseText` of `OK`, and those of failures worth retrying. */
  okCodes: string[];
  transientCodes: string[];
  timeoutMs: number;
  maxConcurrency?: number;
  maxPerSecond?: number;
  /** The clock the token cache goes by (milliseconds since the epoch). */
  now?: () => number;
};

type TransientOutcome = Extract<HeadendOutcome, { kind: 'transient' }>;
type Reply = { kind: 'reply'; status: number; text: string };

const REFUSED_RESULT_CODE = '99999:403';
const DESCRIPTION_FIELDS = [
  'resultText',
  'responseText',
  'message',
  'errorMessage',
  'error_description',
  'description',
  'error',
];

export function createCagHeadendClient(options: CagHeadendOptions): HeadendClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const okCodes = new Set(options.okCodes);
  const transientCodes = new Set(options.transientCodes);
  const limiter = createRateLimiter({ maxConcurrency: options.maxConcurrency, maxPerSecond: options.maxPerSecond });
  const tokens = createCagTokenCache({
    tokenUrl: options.tokenUrl,
    clientId: options.clientId,
    credential: options.credential,
    timeoutMs: options.timeoutMs,
    now: options.now,
  });

  async function put(
    url: string,
    headers: Record<string, string>,
    accessToken: string,
    signal: AbortSignal | undefined,
  ): Promise<Reply | TransientOutcome> {
    try {
      return await limiter.run(() => call(url, headers, accessToken, signal), signal);
    } catch {
      // call() never throws: the limiter rejected because the caller aborted while waiting for a slot.
      return { kind: 'transient', reason: 'ABORTED' };
    }
  }

  async function call(
    url: string,
    headers: Record<string, string>,
    accessToken: string,
    signal: AbortSignal | undefined,
  ): Promise<Reply | TransientOutcome> {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    try {
      const reply = await fetch(url, {
        method: 'PUT',
        headers: { ...headers, authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        // Following a redirect would send the token and the command somewhere else.
        redirect: 'manual',
        signal: combined,
      });
      // The body read is under the same signal, so a reply that stalls mid-body also times out.
      const text = await reply.text();
      return { kind: 'reply', status: reply.status, text: text.replaceAll(accessToken, '[REDACTED]') };
    } catch (error) {
      if (signal?.aborted) return { kind: 'transient', reason: 'ABORTED' };
      if (timeout.aborted) return { kind: 'transient', reason: 'TIMEOUT' };
      return { kind: 'transient', reason: 'CONNECTION_ERROR', detail: connectionErrorCode(error) };
    }
  }

  function classify(reply: Reply, request: string, deviceId: string): HeadendOutcome {
    const { status, text } = reply;
    if (status === 429) return { kind: 'transient', reason: 'RATE_LIMITED', status };
    if (status >= 500) return { kind: 'transient', reason: 'SERVER_ERROR', status };
    if (status === 200) return commandsOutcome(text, request);
    const response = text.slice(0, MAX_STORED_UNEXPECTED_BODY);
    if (status === 400 || status === 404) {
      const described = description(parseObject(text));
      return status === 400
        ? {
            kind: 'rejected',
            errorCode: 'CAG_BAD_REQUEST',
            errorDescription: described ?? 'The CAS gateway refused the command as malformed (HTTP 400).',
            request,
            response,
          }
        : {
            kind: 'rejected',
            errorCode: 'UNKNOWN_SMARTCARD',
            errorDescription: described ?? `The CAS gateway does not know the device ${deviceId}.`,
            request,
            response,
          };
    }
    if (status >= 400) {
      return {
        kind: 'rejected',
        errorCode: HEADEND_PROTOCOL_ERROR,
        errorDescription: `The CAS gateway refused the command with HTTP ${status}.`,
        request,
        response,
      };
    }
    return { kind: 'transient', reason: 'UNEXPECTED_STATUS', status };
  }

  function commandsOutcome(text: string, request: string): HeadendOutcome {
    const invalid: TransientOutcome = { kind: 'transient', reason: 'INVALID_RESPONSE', status: 200 };
    const results = parseObject(text)?.commandResults;
    if (!Array.isArray(results) || results.length === 0) return invalid;
    const commands = results.map(commandResult);
    if (commands.some((command) => command === undefined)) return invalid;
    const failed = (commands as CommandResult[]).find(
      (command) => !(command.text === 'OK' || (command.code !== undefined && okCodes.has(command.code))),
    );
    if (failed === undefined) {
      const referenceNumber = (commands[0] as CommandResult).reference;
      if (referenceNumber === undefined) return invalid;
      return { kind: 'accepted', referenceNumber, request, response: text };
    }
    if (failed.code === undefined) return invalid;
    if (transientCodes.has(failed.code)) {
      return { kind: 'transient', reason: 'CAG_TRANSIENT', status: 200, detail: failed.code };
    }
    return {
      kind: 'rejected',
      errorCode: `CAG_${failed.code}`,
      errorDescription: failed.text ?? '',
      request,
      response: text,
    };
  }

  return {
    async send(command, signal) {
      // toWellFormed: encodeURIComponent throws on a lone surrogate, and send() must not throw.
      const cas = encodeURIComponent(options.casInstanceName.toWellFormed());
      const path = `/cag/v1/${cas}/devices/${encodeURIComponent(command.smartcardCaId.toWellFormed())}/pin`;
      const url = `${base}${path}`;
      const headers = {
        'nv-tenant-id': options.tenantId,
        operator: options.operator,
        'x-correlation-id': command.transactionId,
      };
      const request = JSON.stringify({ method: 'PUT', path, headers });

      const first = await tokens.get(signal);
      if (first.kind !== 'token') return first;
      const reply = await put(url, headers, first.accessToken, signal);
      if (reply.kind !== 'reply') return reply;
      if (!isRefusal(reply)) return classify(reply, request, command.smartcardCaId);

      const renewed = await tokens.renewRefused(first.serial, signal);
      if (renewed.kind !== 'token') return renewed;
      const again = await put(url, headers, renewed.accessToken, signal);
      if (again.kind !== 'reply') return again;
      if (isRefusal(again)) return { kind: 'transient', reason: 'UNAUTHORIZED', status: again.status };
      return classify(again, request, command.smartcardCaId);
    },
  };
}

type CommandResult = { code?: string; text?: string; reference?: string };

function isRefusal(reply: Reply): boolean {
  return reply.status === 401 || reply.status === 403 || parseObject(reply.text)?.resultCode === REFUSED_RESULT_CODE;
}

function commandResult(value: unknown): CommandResult | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  return {
    code: opaque(fields.responseCode),
    text: typeof fields.responseText === 'string' ? fields.responseText : undefined,
    reference: opaque(fields.id) ?? opaque(fields._id),
  };
}

// CAG's codes and ids are opaque strings; a site that sends them as numbers means the same.
function opaque(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function description(body: Record<string, unknown> | undefined): string | undefined {
  for (const field of DESCRIPTION_FIELDS) {
    const value = body?.[field];
    if (typeof value === 'string' && value.trim() !== '') return value.slice(0, MAX_STORED_UNEXPECTED_BODY);
  }
  return undefined;
}
