import { hashToken, isTokenFormat, isTokenLive, needsTouch } from '../domain/credentials.ts';
import { ApiError } from '../domain/errors.ts';
import type { Session } from '../domain/session.ts';
import type { SessionStore } from './ports.ts';

export const invalidToken = () =>
  new ApiError('INVALID_TOKEN', 'The token is not valid.', 'token is missing, unknown, released or expired');

/**
 * A token is 32 hex digits; anything else is treated like an unknown token, without a look-up (SPEC §2.5: the
 * token is judged before the fields).
 */
export const tokenHashOf = (body: unknown): string => {
  const token = (body as { token?: unknown } | null)?.token;
  if (typeof token !== 'string' || !isTokenFormat(token)) throw invalidToken();
  return hashToken(token);
};

/** Refuses a missing, released or expired session. */
export const acceptSession = (session: Session | undefined, now: Date): Session => {
  if (!session || !isTokenLive(session.lastUsedAt, now)) throw invalidToken();
  return session;
};

/** Slides the token's expiry; a write at most once a minute per token (SPEC §2.1: 1 hour without use). */
export const touchSession = async (sessions: SessionStore, tokenHash: string, session: Session, now: Date) => {
  if (needsTouch(session.lastUsedAt, now)) await sessions.touch(tokenHash, now);
};

export const authenticate = async (sessions: SessionStore, body: unknown, now: Date): Promise<Session> => {
  const tokenHash = tokenHashOf(body);
  const session = acceptSession(await sessions.find(tokenHash), now);
  await touchSession(sessions, tokenHash, session, now);
  return session;
};
