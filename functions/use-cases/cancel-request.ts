import { parseCancelBody } from '../domain/cancel-body.ts';
import { ApiError } from '../domain/errors.ts';
import { type CrmProvisioningRequest, toCrmView } from '../domain/provisioning-request.ts';
import { authenticate } from './authenticate.ts';
import type { RequestStore, SessionStore } from './ports.ts';
import { announceFinalState, type PublishDependencies } from './publish-events.ts';

export type CancelDependencies = PublishDependencies & {
  sessions: SessionStore;
  requests: RequestStore;
  now: () => Date;
};

/**
 * Cancel (SPEC §2.7).
 * 1. Authenticate the token, then validate the body.
 * 2. Read the request by id or number, in the token's organisation.
 * 3. One conditional write makes it REJECTED `CANCELLED` by the canceller, only if no worker has claimed or tried
 *    it: a cancelled request never reaches the headend, and a worker's claim and a cancel cannot both win.
 * 4. Publish its event, as for every final state.
 */
export const cancelRequest = async (deps: CancelDependencies, body: unknown): Promise<CrmProvisioningRequest> => {
  const now = deps.now();
  const session = await authenticate(deps.sessions, body, now);
  const identifier = parseCancelBody(body);
  const request =
    identifier.field === 'id'
      ? await deps.requests.findById(session.organisation, identifier.value)
      : await deps.requests.findByNumber(session.organisation, identifier.value);
  const asked = `provisioning_request_identifier ${identifier.field}=${identifier.value}`;
  if (!request) {
    throw new ApiError('PROVISIONING_REQUEST_NOT_FOUND', 'The provisioning request was not found.', asked);
  }
  const result = await deps.requests.cancel(request, session, now);
  if (result.outcome !== 'cancelled') {
    throw result.outcome === 'in-progress'
      ? new ApiError(
          'REQUEST_IN_PROGRESS',
          'The provisioning request is being sent to the headend; it ends on its own.',
          asked,
        )
      : new ApiError('REQUEST_ALREADY_FINAL', 'The provisioning request is already COMPLETED or REJECTED.', asked);
  }
  deps.metrics.addMetric('RequestsCancelled', 'Count', 1);
  deps.log.info('Provisioning request cancelled', { requestId: request.id, by: session.user.id });
  await announceFinalState(deps, result.request);
  return toCrmView(result.request, deps.timeZone);
};
