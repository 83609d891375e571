import { hashToken, newToken, verifyPassword } from '../domain/credentials.ts';
import { ApiError } from '../domain/errors.ts';
import { secondsUntil } from '../domain/login-attempts.ts';
import { parseLoginBody } from '../domain/login-body.ts';
import type { LoginAttemptStore, SessionStore, UserStore } from './ports.ts';

export type LoginDependencies = {
  users: UserStore;
  attempts: LoginAttemptStore;
  sessions: SessionStore;
  now: () => Date;
};

const invalidCredentials = () =>
  new ApiError('INVALID_CREDENTIALS', 'The username, password or organisation is wrong.', 'login failed');

const tooManyAttempts = (lockedUntil: Date, now: Date) => {
  const seconds = secondsUntil(lockedUntil, now);
  return new ApiError(
    'TOO_MANY_ATTEMPTS',
    'Too many failed logins; try again later.',
    `username is locked for ${seconds} more seconds`,
    seconds,
  );
};

/**
 * Login (SPEC §2.1).
 * 1. Validate the body.
 * 2. In parallel: read the user, and take one of the username's attempt slots (domain/login-attempts.ts);
 *    refuse a locked username without judging the password.
 * 3. Verify the password (scrypt, constant time; a missing user costs the same time).
 * 4. A wrong password, user, organisation or unit answers the same error and keeps its slot.
 * 5. A right one clears the slots — refused if a lock set by a concurrent attempt holds — and stores a new
 *    session under the token's hash.
 */
export const login = async (deps: LoginDependencies, body: unknown): Promise<{ token: string }> => {
  const command = parseLoginBody(body);
  const now = deps.now();
  const [user, slot] = await Promise.all([
    deps.users.find(command.organisation, command.username),
    deps.attempts.takeAttempt(command.organisation, command.username, now),
  ]);
  if (!slot.taken) throw tooManyAttempts(slot.lockedUntil, now);
  const passwordOk = await verifyPassword(command.password, user?.password_hash);
  const unit = user?.units.find((u) => u.id === (command.unitId ?? user.default_unit_id));
  if (!user || !passwordOk || !unit) throw invalidCredentials();

  const cleared = await deps.attempts.clearAfterSuccess(command.organisation, command.username, now, slot.lockedUntil);
  if (!cleared.cleared) throw tooManyAttempts(cleared.lockedUntil, now);
  const token = newToken();
  await deps.sessions.save(hashToken(token), {
    organisation: user.organisation,
    user: { id: user.id, username: user.username, person_name: user.person_name },
    unit,
    lastUsedAt: now,
  });
  return { token };
};
