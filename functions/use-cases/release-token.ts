import { releaseBodySchema } from '../domain/login-body.ts';
import { parseOrThrow } from '../domain/validation.ts';
import { authenticate, tokenHashOf } from './authenticate.ts';
import type { SessionStore } from './ports.ts';

/**
 * Release (SPEC §2.2): the token must be live; its session is deleted at once.
 */
export const releaseToken = async (
  deps: { sessions: SessionStore; now: () => Date },
  body: unknown,
): Promise<Record<string, never>> => {
  await authenticate(deps.sessions, body, deps.now());
  parseOrThrow(releaseBodySchema, body);
  await deps.sessions.remove(tokenHashOf(body));
  return {};
};
