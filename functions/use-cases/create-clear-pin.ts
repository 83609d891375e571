import { checkIdempotencyKey, commandFingerprint, parseClearPinBody } from '../domain/clear-pin-body.ts';
import { ApiError } from '../domain/errors.ts';
import { derivedId } from '../domain/identifiers.ts';
import { resolveClearPinTarget } from '../domain/installed-item.ts';
import {
  asCreated,
  type CrmProvisioningRequest,
  dueShardOf,
  firstDueAt,
  newProvisioningRequest,
  type ProvisioningRequest,
  toCrmView,
} from '../domain/provisioning-request.ts';
import { acceptSession, tokenHashOf, touchSession } from './authenticate.ts';
import type { ReferenceStore, RequestStore, SessionStore, Telemetry, WorkQueue } from './ports.ts';

export type CreateClearPinDependencies = Telemetry & {
  sessions: SessionStore;
  reference: ReferenceStore;
  requests: RequestStore;
  queue: WorkQueue;
  now: () => Date;
  timeZone: string;
  dueShards: number;
  immediateGraceMs: number;
};

/** `idempotencyKeys`: every Idempotency-Key header value sent (none, one, or the refused several). */
export type CreateClearPinInput = { body: unknown; idempotencyKeys?: readonly string[]; correlationId?: string };

const reused = () =>
  new ApiError(
    'IDEMPOTENCY_KEY_REUSED',
    'The Idempotency-Key was already used with a different request.',
    'Idempotency-Key',
  );

/**
 * Create a clear-PIN provisioning request (SPEC §2.3), in three DynamoDB round trips with or without an
 * Idempotency-Key.
 * 1. Read the token's session (the token is judged before the fields, SPEC §2.5); then validate the
 *    Idempotency-Key and the fields.
 * 2. In parallel: the subscription, the smartcard and — with an Idempotency-Key — the request already stored
 *    under the key's id, all in the session's organisation (one BatchGetItem); the next number; the token's last
 *    use (at most once a minute).
 * 3. With a key already used: the same command answers the first response, another one is
 *    IDEMPOTENCY_KEY_REUSED. Otherwise refuse a failed look-up.
 * 4. Write the request PENDING, placed in the due index, with a conditional write (a keyed create that lost a
 *    race to an identical one answers the winner's first response).
 * 5. For process_immediately, send its id to the work queue; a failed send leaves it for the processing run.
 */
export const createClearPin = async (
  deps: CreateClearPinDependencies,
  { body, idempotencyKeys = [], correlationId }: CreateClearPinInput,
): Promise<CrmProvisioningRequest> => {
  const now = deps.now();
  const tokenHash = tokenHashOf(body);
  const session = acceptSession(await deps.sessions.find(tokenHash), now);
  const idempotencyKey = checkIdempotencyKey(idempotencyKeys);
  const command = parseClearPinBody(body, { timeZone: deps.timeZone, now });

  const keyed =
    idempotencyKey === undefined
      ? undefined
      : {
          id: derivedId('clear-pin', session.organisation, session.user.id, idempotencyKey),
          fingerprint: commandFingerprint(command),
        };
  const [found, number] = await Promise.all([
    deps.reference.findTarget(session.organisation, command.subscription, command.smartcard, keyed?.id),
    deps.requests.nextNumber(),
    touchSession(deps.sessions, tokenHash, session, now),
  ]);
  if (keyed && found.keyed) return firstResponse(deps, found.keyed, keyed.fingerprint);

  const target = resolveClearPinTarget(found.subscription, found.item, {
    subscription: `${command.subscription.field}=${command.subscription.value}`,
    smartcard: `${command.smartcard.field}=${command.smartcard.value}`,
  });
  const request: ProvisioningRequest = {
    ...newProvisioningRequest(command, target, session, number, now, keyed?.id),
    ...(keyed && { idempotencyFingerprint: keyed.fingerprint }),
  };
  const written = await deps.requests.create(request, {
    shard: dueShardOf(request.id, request.priority, deps.dueShards),
    at: firstDueAt(request, now, deps.immediateGraceMs),
  });
  if (written === 'exists') {
    if (!keyed) throw new Error(`Request id ${request.id} is taken`);
    return firstResponse(deps, await deps.requests.findById(session.organisation, request.id), keyed.fingerprint);
  }

  deps.metrics.addMetric('RequestsCreated', 'Count', 1);
  deps.log.info('Provisioning request created', { requestId: request.id, number: request.number });
  if (command.processImmediately) await sendToWorker(deps, request, correlationId);
  return toCrmView(request, deps.timeZone);
};

/**
 * The answer to a repeat of a keyed create: the first response, as it was (SPEC §2.3). A request the conditional
 * write says exists but that cannot be read back is still being written by its create: retry shortly.
 */
const firstResponse = (
  deps: CreateClearPinDependencies,
  stored: ProvisioningRequest | undefined,
  fingerprint: string,
): CrmProvisioningRequest => {
  if (!stored) {
    throw new ApiError(
      'IDEMPOTENCY_KEY_IN_PROGRESS',
      'A request with this Idempotency-Key is still being created; retry shortly.',
      'Idempotency-Key',
      1,
    );
  }
  if (stored.idempotencyFingerprint !== fingerprint) throw reused();
  return toCrmView(asCreated(stored), deps.timeZone);
};

const sendToWorker = async (
  deps: CreateClearPinDependencies,
  request: ProvisioningRequest,
  correlationId: string | undefined,
) => {
  const { failed } = await deps.queue.send([request.id], correlationId);
  if (failed.length === 0) return;
  // The request is safe in DynamoDB; the processing run picks it up after the grace period.
  deps.log.warn('Work queue send failed; the processing run will pick the request up', { requestId: request.id });
  deps.metrics.addMetric('QueueSendFailures', 'Count', 1);
};
