import { describe, expect, it } from 'vitest';
import type { ApiError } from '../../functions/domain/errors.ts';
import { newProvisioningRequest } from '../../functions/domain/provisioning-request.ts';
import { showRequest } from '../../functions/use-cases/show-request.ts';
import { memoryRequests, SMARTCARD, SUBSCRIPTION, session, sessionsWithToken, TOKEN } from '../helpers/memory-ports.ts';

const NOW = new Date('2026-03-10T12:00:00.000Z');

const setup = () => {
  const requests = memoryRequests();
  const mine = newProvisioningRequest(
    { priority: 'REGULAR', processImmediately: false },
    { subscription: SUBSCRIPTION, smartcard: { ...SMARTCARD, smartcard_ca_id: 'smrt200000' } },
    session(NOW),
    '7',
    NOW,
  );
  const theirs = { ...mine, id: 'ABCDEF0123456789ABCDEF0123456789', number: '8', organisation: 'CRMOTHER' };
  requests.requests.set(mine.id, mine);
  requests.requests.set(theirs.id, theirs);
  const deps = { sessions: sessionsWithToken(NOW), requests, now: () => NOW, timeZone: 'UTC' };
  return { deps, mine, theirs };
};

const notFound = async (promise: Promise<unknown>) =>
  ((await promise.catch((e: unknown) => e)) as ApiError).code === 'PROVISIONING_REQUEST_NOT_FOUND';

describe('showRequest', () => {
  it('answers a request of the token’s organisation by id or number, narrowed by fields_set', async () => {
    const { deps, mine } = setup();
    expect(await showRequest(deps, { token: TOKEN, provisioning_request_identifier: `id=${mine.id}` })).toMatchObject({
      id: mine.id,
      number: '7',
    });
    expect(
      await showRequest(deps, { token: TOKEN, provisioning_request_identifier: 'number=7', fields_set: 'number,id' }),
    ).toEqual({ number: '7', id: mine.id });
  });

  it('answers another organisation’s request exactly as a missing one', async () => {
    const { deps, theirs } = setup();
    expect(
      await notFound(showRequest(deps, { token: TOKEN, provisioning_request_identifier: `id=${theirs.id}` })),
    ).toBe(true);
    expect(await notFound(showRequest(deps, { token: TOKEN, provisioning_request_identifier: 'number=8' }))).toBe(true);
  });

  it('judges the token before the query', async () => {
    const { deps } = setup();
    const error = (await showRequest(deps, { token: 'nope', fields_set: 'x' }).catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe('INVALID_TOKEN');
  });
});
