import { describe, expect, it } from 'vitest';
import { hashPassword, hashToken } from '../../functions/domain/credentials.ts';
import type { ApiError } from '../../functions/domain/errors.ts';
import type { User } from '../../functions/domain/session.ts';
import { type LoginDependencies, login } from '../../functions/use-cases/login.ts';
import { memoryAttempts, memorySessions, memoryUsers, ORGANISATION } from '../helpers/memory-ports.ts';
import { SEED_UNIT } from '../helpers/seed.ts';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const user: User = {
  id: '1',
  username: 'MPAdministrator',
  person_name: 'Marios Lannister',
  organisation: ORGANISATION,
  password_hash: await hashPassword('1234'),
  default_unit_id: SEED_UNIT.id,
  units: [{ ...SEED_UNIT }],
};

const setup = () => {
  const sessions = memorySessions();
  const attempts = memoryAttempts();
  const deps: LoginDependencies = { users: memoryUsers([user]), attempts, sessions, now: () => NOW };
  return { deps, sessions, attempts };
};
const credentials = (password: string, extra: Record<string, unknown> = {}) => ({
  username: 'MPAdministrator',
  password,
  organisation: ORGANISATION,
  ...extra,
});
const codeOf = async (promise: Promise<unknown>) => ((await promise.catch((e: unknown) => e)) as ApiError).code;

describe('login', () => {
  it('stores a session under the new token’s hash only, in the user’s organisation and unit', async () => {
    const { deps, sessions } = setup();
    const { token } = await login(deps, credentials('1234'));
    expect(token).toMatch(/^[0-9A-F]{32}$/);
    expect(sessions.sessions.get(hashToken(token))).toMatchObject({ organisation: ORGANISATION, unit: SEED_UNIT });
    expect(JSON.stringify([...sessions.sessions.entries()])).not.toContain(token);
  });

  it('answers the same error for a wrong password, user, organisation and unit', async () => {
    const { deps } = setup();
    for (const attempt of [
      credentials('12345'),
      { ...credentials('1234'), username: 'nobody' },
      { ...credentials('1234'), organisation: 'CRMOTHER' },
      credentials('1234', { unit: '0000000000000000000000000000BEEF' }),
    ]) {
      expect(await codeOf(login(deps, attempt))).toBe('INVALID_CREDENTIALS');
    }
  });

  it('refuses at the sixth attempt after five wrong ones, the right password included, saying until when', async () => {
    const { deps } = setup();
    for (let i = 0; i < 5; i += 1)
      expect(await codeOf(login(deps, credentials(`wrong-${i}`)))).toBe('INVALID_CREDENTIALS');
    const locked = (await login(deps, credentials('1234')).catch((e: unknown) => e)) as ApiError;
    expect({ code: locked.code, retryAfter: locked.retryAfterSeconds }).toEqual({
      code: 'TOO_MANY_ATTEMPTS',
      retryAfter: 900,
    });
  });

  it('lets the right password that took the last slot in, and clears the count', async () => {
    const { deps, attempts } = setup();
    for (let i = 0; i < 4; i += 1) await codeOf(login(deps, credentials(`wrong-${i}`)));
    await expect(login(deps, credentials('1234'))).resolves.toMatchObject({ token: expect.any(String) });
    expect(attempts.records.size).toBe(0);
  });

  it('refuses a right password whose judgment ends under a lock another attempt set', async () => {
    const { deps, attempts } = setup();
    const racing = {
      ...deps,
      attempts: {
        ...attempts,
        // The slot was taken before the lock; the fifth attempt, judged meanwhile, has set it.
        takeAttempt: async () => ({ taken: true as const }),
        clearAfterSuccess: async () => ({ cleared: false as const, lockedUntil: new Date(NOW.getTime() + 900_000) }),
      },
    };
    expect(await codeOf(login(racing, credentials('1234')))).toBe('TOO_MANY_ATTEMPTS');
  });
});
