import { hashToken, newToken, verifyPassword } from '../domain/credentials.ts';
import { ApiError } from '../domain/errors.ts';
import { isLockedOut, lockAfter } from '../domain/login-attempts.ts';
import { parseLoginBody } from '../domain/login-body.ts';
import type { SessionStore, UserStore } from './ports.ts';

export type LoginDependencies = { users: UserStore; sessions: SessionStore; now: () => Date };

const invalidCredentials = () =>
  new ApiError('INVALID_CREDENTIALS', 'The username, password or organisation is wrong.', 'login failed');

/**
 * Login (SPEC §2.1).
 * 1. Validate the body.
 * 2. Read the user and the username's failure counter (one round trip); refuse a locked-out username.
 * 3. Verify the password (scrypt, constant time; a missing user costs the same time).
 * 4. On failure count it, lock the username at the fifth, and answer the same error for every cause.
 * 5. On success clear the counter and store a new session under the token's hash.
 */
export const login = async (deps: LoginDependencies, body: unknown): Promise<{ token: string }> => {
  const command = parseLoginBody(body);
  const now = deps.now();
  const { user, failures } = await deps.users.findForLogin(command.organisation, command.username);
  if (isLockedOut(failures, now)) {
    throw new ApiError(
      'TOO_MANY_ATTEMPTS',
      'Too many failed logins; try again later.',
      'username is locked for 15 minutes',
    );
  }
  const passwordOk = await verifyPassword(command.password, user?.password_hash);
  const unit = user?.units.find((u) => u.id === (command.unitId ?? user.default_unit_id));
  if (!user || !passwordOk || !unit) {
    const counted = await deps.users.recordFailure(command.username, now);
    const lockUntil = lockAfter(counted, now);
    if (lockUntil) await deps.users.lock(command.username, lockUntil);
    throw invalidCredentials();
  }
  if (failures) await deps.users.clearFailures(command.username);
  const token = newToken();
  await deps.sessions.save(hashToken(token), {
    user: { id: user.id, username: user.username, person_name: user.person_name },
    unit,
    lastUsedAt: now,
  });
  return { token };
};
