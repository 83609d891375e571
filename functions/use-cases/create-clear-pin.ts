import { type ClearPinCommand, checkIdempotencyKey, parseClearPinBody } from '../domain/clear-pin-body.ts';
import { ApiError } from '../domain/errors.ts';
import { bodyFingerprint } from '../domain/fingerprint.ts';
import { derivedId } from '../domain/identifiers.ts';
import { type ClearPinTarget, resolveClearPinTarget } from '../domain/installed-item.ts';
import {
  type CrmProvisioningRequest,
  dueShardOf,
  firstDueAt,
  newProvisioningRequest,
  toCrmView,
} from '../domain/provisioning-request.ts';
import type { Session } from '../domain/session.ts';
import { acceptSession, tokenHashOf, touchSession } from './authenticate.ts';
import type { IdempotencyGuard, ReferenceStore, RequestStore, SessionStore, Telemetry, WorkQueue } from './ports.ts';

export type CreateClearPinDependencies = Telemetry & {
  sessions: SessionStore;
  reference: ReferenceStore;
  requests: RequestStore;
  queue: WorkQueue;
  idempotency: IdempotencyGuard;
  now: () => Date;
  timeZone: string;
  dueShards: number;
  immediateGraceMs: number;
};

/**
 * Create a clear-PIN provisioning request (SPEC §2.3).
 * 1. Read the token; validate the Idempotency-Key, then the fields, keeping any error until the token has been
 *    judged (§2.5 order).
 * 2. One BatchGetItem: the token's session, the subscription and the smartcard.
 * 3. Refuse a dead token, then a field error, then a failed look-up.
 * 4. (With an Idempotency-Key, steps 5–7 run once per user and key.)
 * 5. Take the next number (and slide the token's expiry, in parallel).
 * 6. Write the request PENDING, placed in the due index.
 * 7. For process_immediately, send its id to the work queue; a failed send leaves it for the processing run.
 */
export type CreateClearPinInput = { body: unknown; idempotencyKey?: string; correlationId?: string };

export const createClearPin = async (
  deps: CreateClearPinDependencies,
  { body, idempotencyKey, correlationId }: CreateClearPinInput,
): Promise<CrmProvisioningRequest> => {
  const now = deps.now();
  const tokenHash = tokenHashOf(body);
  let command: ClearPinCommand | undefined;
  let fieldError: ApiError | undefined;
  try {
    checkIdempotencyKey(idempotencyKey);
    command = parseClearPinBody(body, { timeZone: deps.timeZone, now });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    fieldError = error;
  }
  const found = await deps.reference.findSessionSubscriptionAndCard(
    tokenHash,
    command?.subscription,
    command?.smartcard,
  );
  const session = acceptSession(found.session, now);
  if (!command) throw fieldError;
  const target = resolveClearPinTarget(found.subscription, found.item, {
    subscription: `${command.subscription.field}=${command.subscription.value}`,
    smartcard: `${command.smartcard.field}=${command.smartcard.value}`,
  });
  const accepted = { command, target, session, tokenHash, now, correlationId };
  if (idempotencyKey === undefined) return createRequest(deps, accepted);
  const fingerprint = bodyFingerprint(body, ['token']);
  const view = await deps.idempotency.once({ scope: session.user.id, key: idempotencyKey, fingerprint }, () =>
    createKeyedRequest(deps, accepted, derivedId('clear-pin', session.user.id, idempotencyKey), fingerprint),
  );
  // Best effort: if DynamoDB is gone again, the request stays unconfirmed and a later run replays it (below).
  await deps.requests.confirmIdempotency(view.id).catch(() => undefined);
  return view;
};

type Accepted = {
  command: ClearPinCommand;
  target: ClearPinTarget;
  session: Session;
  tokenHash: string;
  now: Date;
  correlationId?: string;
};
type Keyed = { id: string; idempotencyFingerprint: string };

/**
 * With an Idempotency-Key the request id is derived from (user, key). Powertools runs the create again when a
 * run's in-progress record lapsed without reaching COMPLETED (DynamoDB dropped right after the request was
 * written): that run finds the unconfirmed request the first one wrote and answers it instead of creating a
 * second one. A confirmed request means its record was kept and has expired (24 h): the key is free again, and
 * the next request's id is derived from the previous one.
 */
const createKeyedRequest = async (
  deps: CreateClearPinDependencies,
  accepted: Accepted,
  firstId: string,
  idempotencyFingerprint: string,
): Promise<CrmProvisioningRequest> => {
  for (let id = firstId; ; id = derivedId(id)) {
    const existing = await deps.requests.findById(id);
    if (!existing) return createRequest(deps, accepted, { id, idempotencyFingerprint });
    if (existing.idempotencyConfirmed) continue;
    if (existing.idempotencyFingerprint !== idempotencyFingerprint) {
      throw new ApiError(
        'IDEMPOTENCY_KEY_REUSED',
        'The Idempotency-Key was already used with a different request.',
        'Idempotency-Key',
      );
    }
    return toCrmView(existing, deps.timeZone);
  }
};

const createRequest = async (
  deps: CreateClearPinDependencies,
  accepted: Accepted,
  keyed?: Keyed,
): Promise<CrmProvisioningRequest> => {
  const { command, target, session, tokenHash, now, correlationId } = accepted;
  const [number] = await Promise.all([
    deps.requests.nextNumber(),
    touchSession(deps.sessions, tokenHash, session, now),
  ]);
  const request = { ...newProvisioningRequest(command, target, session, number, now), ...keyed };
  await deps.requests.create(request, {
    shard: dueShardOf(request.id, request.priority, deps.dueShards),
    at: firstDueAt(request, now, deps.immediateGraceMs),
  });
  deps.metrics.addMetric('RequestsCreated', 'Count', 1);
  deps.log.info('Provisioning request created', { requestId: request.id, number: request.number });
  if (command.processImmediately) {
    const { failed } = await deps.queue.send([request.id], correlationId);
    if (failed.length > 0) {
      // The request is safe in DynamoDB; the processing run picks it up after the grace period.
      deps.log.warn('Work queue send failed; the processing run will pick the request up', { requestId: request.id });
      deps.metrics.addMetric('QueueSendFailures', 'Count', 1);
    }
  }
  return toCrmView(request, deps.timeZone);
};
