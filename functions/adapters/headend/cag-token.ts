import type { HeadendOutcome } from '../../use-cases/ports.ts';
import type { Credential } from './credential.ts';
import { connectionErrorCode, errorName, parseObject } from './http-reply.ts';

/** The CAG operator account of the password grant; in AWS one Secrets Manager secret holding it as JSON. */
export type CagOperatorAccount = { username: string; password: string };

/** The operator secret is not `{"username": "…", "password": "…"}`; the message never quotes the value. */
export class CagOperatorSecretError extends Error {
  override name = 'CagOperatorSecretError';
}

/** Reads the operator secret's JSON; throws CagOperatorSecretError, naming what is wrong but not the value. */
export function parseCagOperatorAccount(value: string): CagOperatorAccount {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // Not chained: JSON.parse's message quotes the text it could not read.
    throw new CagOperatorSecretError('The CAG operator secret is not JSON; expected {"username": …, "password": …}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CagOperatorSecretError('The CAG operator secret is not a JSON object with username and password');
  }
  const { username, password } = parsed as Record<string, unknown>;
  if (typeof username !== 'string' || username === '') {
    throw new CagOperatorSecretError('The CAG operator secret has no non-empty string "username"');
  }
  if (typeof password !== 'string' || password === '') {
    throw new CagOperatorSecretError('The CAG operator secret has no non-empty string "password"');
  }
  return { username, password };
}

export type CagTokenOptions = {
  /** The Keycloak token endpoint, `…/realms/{realm}/protocol/openid-connect/token`. */
  tokenUrl: string;
  clientId: string;
  credential: Credential<CagOperatorAccount>;
  /** Each token request's own timeout. */
  timeoutMs: number;
  /** The clock tokens expire by (milliseconds since the epoch). */
  now?: () => number;
};

type TransientOutcome = Extract<HeadendOutcome, { kind: 'transient' }>;

/** An access token, and which grant it came from (so that a refusal discards only that grant). */
export type AccessToken = { kind: 'token'; accessToken: string; serial: number };

export interface CagTokenCache {
  /** A live access token: the cached one, or one renewal shared by every caller that needs it meanwhile. */
  get(signal?: AbortSignal): Promise<AccessToken | TransientOutcome>;
  /** The gateway refused the token of grant `serial`: a newer one if another call renewed meanwhile, else a renewal. */
  renewRefused(serial: number, signal?: AbortSignal): Promise<AccessToken | TransientOutcome>;
}

/** Renewal starts this long before the expiry: 10 % of the lifetime, at most 30 s. */
export function renewalMarginMs(lifetimeMs: number): number {
  return Math.min(30_000, lifetimeMs / 10);
}

type Grant = {
  serial: number;
  accessToken: string;
  expiresAt: number;
  renewAt: number;
  refreshToken?: string;
  refreshUntil: number;
};

type GrantReply =
  | { kind: 'granted'; grant: Omit<Grant, 'serial'> }
  | { kind: 'refused'; detail: string }
  | { kind: 'unavailable'; detail: string };

const ABORTED: TransientOutcome = { kind: 'transient', reason: 'ABORTED' };
const OAUTH_ERROR_CODE = /^[\w.-]{1,64}$/;

/**
 * Keycloak tokens for the CAG operator account (SPEC §4.2), cached for the life of the adapter instance. Renewed
 * when less than `renewalMarginMs` of the access token's lifetime is left: by the refresh grant while the refresh
 * token lives (the same margin on its lifetime; one without a stated lifetime is tried until refused), else, or
 * when the refresh is refused, by the password grant. Expiries count from when the token request was sent, so a
 * slow reply makes the renewal earlier, never later. Concurrent callers share one renewal, which runs under its
 * own timeout, so that one caller giving up does not cancel it for the others; a failed renewal is not kept, the
 * next call tries again. Tokens and the password never leave this module except as the bearer of a call.
 */
export function createCagTokenCache(options: CagTokenOptions): CagTokenCache {
  const now = options.now ?? Date.now;
  let current: Grant | undefined;
  let serial = 0;
  let renewal: Promise<AccessToken | TransientOutcome> | undefined;

  async function renew(): Promise<AccessToken | TransientOutcome> {
    const previous = current;
    const refreshToken = previous !== undefined && now() < previous.refreshUntil ? previous.refreshToken : undefined;
    let reply =
      refreshToken === undefined
        ? undefined
        : await requestGrant({ grant_type: 'refresh_token', client_id: options.clientId, refresh_token: refreshToken });
    // Keycloak refuses a refresh token whose session ended (logout, idle or maximum age): start over.
    if (reply === undefined || reply.kind === 'refused') {
      let account: CagOperatorAccount;
      try {
        account = await options.credential.get();
      } catch (error) {
        return { kind: 'transient', reason: 'SECRET_UNAVAILABLE', detail: errorName(error) };
      }
      if (account.username === '' || account.password === '') {
        return { kind: 'transient', reason: 'SECRET_UNAVAILABLE', detail: 'empty' };
      }
      reply = await requestGrant({
        grant_type: 'password',
        client_id: options.clientId,
        username: account.username,
        password: account.password,
      });
      if (reply.kind === 'refused') {
        // Wrong operator credentials: an alarm for the operator, and a corrected secret is read at the next try.
        options.credential.refresh();
        return { kind: 'transient', reason: 'UNAUTHORIZED', detail: reply.detail };
      }
    }
    if (reply.kind === 'unavailable') {
      // Keycloak being away for a moment must not stop calls while the token in hand still lives.
      if (previous !== undefined && now() < previous.expiresAt) return tokenOf(previous);
      return { kind: 'transient', reason: 'TOKEN_UNAVAILABLE', detail: reply.detail };
    }
    serial += 1;
    const granted = { ...reply.grant, serial };
    current = granted;
    return tokenOf(granted);
  }

  async function requestGrant(form: Record<string, string>): Promise<GrantReply> {
    const sentAt = now();
    const timeout = AbortSignal.timeout(options.timeoutMs);
    let status: number;
    let text: string;
    try {
      const reply = await fetch(options.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams(form).toString(),
        // A redirect would carry the password somewhere else.
        redirect: 'manual',
        signal: timeout,
      });
      status = reply.status;
      text = await reply.text();
    } catch (error) {
      const cause = timeout.aborted ? 'TIMEOUT' : connectionErrorCode(error);
      return { kind: 'unavailable', detail: `token endpoint: ${cause}` };
    }
    if (status === 400 || status === 401 || status === 403) {
      // Only the OAuth error code (e.g. invalid_grant): a description might quote what was sent.
      const error = parseObject(text)?.error;
      const code = typeof error === 'string' && OAUTH_ERROR_CODE.test(error) ? ` ${error}` : '';
      return { kind: 'refused', detail: `token endpoint: HTTP ${status}${code}` };
    }
    if (status !== 200) return { kind: 'unavailable', detail: `token endpoint: HTTP ${status}` };
    const grant = parseGrant(text, sentAt);
    return grant === undefined
      ? { kind: 'unavailable', detail: 'token endpoint: invalid token response' }
      : { kind: 'granted', grant };
  }

  function shared(signal: AbortSignal | undefined): Promise<AccessToken | TransientOutcome> {
    renewal ??= renew().finally(() => {
      renewal = undefined;
    });
    return untilAborted(renewal, signal);
  }

  function get(signal?: AbortSignal): Promise<AccessToken | TransientOutcome> {
    if (current !== undefined && now() < current.renewAt) return Promise.resolve(tokenOf(current));
    return shared(signal);
  }

  return {
    get,
    renewRefused(refused, signal) {
      if (current !== undefined && current.serial !== refused) return get(signal);
      if (current !== undefined) {
        // Mutated rather than replaced, so that a renewal already under way does not fall back on it either.
        current.renewAt = Number.NEGATIVE_INFINITY;
        current.expiresAt = Number.NEGATIVE_INFINITY;
      }
      return shared(signal);
    },
  };
}

function tokenOf(grant: Grant): AccessToken {
  return { kind: 'token', accessToken: grant.accessToken, serial: grant.serial };
}

function parseGrant(text: string, sentAt: number): Omit<Grant, 'serial'> | undefined {
  const body = parseObject(text);
  const accessToken = body?.access_token;
  const expiresIn = body?.expires_in;
  if (typeof accessToken !== 'string' || accessToken === '' || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
    return undefined;
  }
  const lifetimeMs = expiresIn * 1000;
  const refreshToken =
    typeof body?.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : undefined;
  const refreshIn = body?.refresh_expires_in;
  // Keycloak states 0 for a refresh token without an idle expiry (offline tokens).
  const refreshUntil =
    typeof refreshIn === 'number' && refreshIn > 0
      ? sentAt + refreshIn * 1000 - renewalMarginMs(refreshIn * 1000)
      : Number.POSITIVE_INFINITY;
  return {
    accessToken,
    expiresAt: sentAt + lifetimeMs,
    renewAt: sentAt + lifetimeMs - renewalMarginMs(lifetimeMs),
    refreshToken,
    refreshUntil,
  };
}

/** The work's result, or ABORTED as soon as the caller's signal aborts (the work itself goes on for others). */
function untilAborted(
  work: Promise<AccessToken | TransientOutcome>,
  signal: AbortSignal | undefined,
): Promise<AccessToken | TransientOutcome> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then((result) => {
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    });
  });
}
