import { formatCrmDate } from './dates.ts';
import { newId } from './identifiers.ts';
import type { ClearPinTarget } from './installed-item.ts';
import type { Session, Unit, UserSummary } from './session.ts';

/** CRM.COM's three life cycle states. While a request is being sent it stays PENDING (with an internal lease). */
export type LifeCycleState = 'PENDING' | 'COMPLETED' | 'REJECTED';
export type Priority = 'REGULAR' | 'EXPRESS';

export const REQUEST_TYPE = 'CLEAR_CA_PIN';
/** The `error_code` of a request cancelled before it reached the headend (SPEC §2.7). */
export const CANCELLED = 'CANCELLED';
export const PROCESS_NAME = 'RESET_PIN_CODE_UTILITY';

/** A parameter of the request, as CRM.COM lists it in `parameters_set`. */
export type RequestParameter = { id: string } & Record<string, string>;

export type ProvisioningRequest = {
  id: string;
  /** The organisation of its creator; every read of it is scoped to the reader's (SPEC §2). */
  organisation: string;
  number: string;
  priority: Priority;
  processImmediately: boolean;
  /** ISO-8601 instants (UTC) throughout; converted to the operator zone only when shown. */
  scheduledAt: string;
  createdAt: string;
  updatedAt: string;
  lifeCycleState: LifeCycleState;
  subscriptionId: string;
  installedItemId: string;
  smartcardCaId: string;
  parameters: RequestParameter[];
  createdByUser: UserSummary;
  createdByUnit: Unit;
  updatedByUser: UserSummary;
  updatedByUnit: Unit;
  executedAt?: string;
  referenceNumber?: string;
  sequenceNumber?: string;
  processId?: string;
  request?: string;
  response?: string;
  errorCode?: string;
  errorDescription?: string;
  /** Headend attempts so far (internal). */
  attempts: number;
  /** For a create made with an Idempotency-Key, the fingerprint of its command (internal). */
  idempotencyFingerprint?: string;
};

/** The request as CRM.COM returns it: exactly the fields of the clear_pin example, in its order. */
export type CrmProvisioningRequest = {
  scheduled_date: string;
  response: string | null;
  error_code: string | null;
  priority: Priority;
  error_description: string | null;
  sequence_number: string | null;
  number: string;
  process_id: string | null;
  name: string | null;
  parameters_set: RequestParameter[];
  process_immediately: 0 | 1;
  request: string | null;
  log_information: {
    updated_date: string;
    created_date: string;
    created_by_unit: Unit;
    updated_by_unit: Unit;
    created_by_user: UserSummary;
    updated_by_user: UserSummary;
  };
  life_cycle_state: LifeCycleState;
  type: typeof REQUEST_TYPE;
  process_name: typeof PROCESS_NAME;
  id: string;
  reference_number: string | null;
  executed_date: string | null;
};

const dateOrNull = (iso: string | undefined, timeZone: string): string | null =>
  iso === undefined ? null : formatCrmDate(new Date(iso), timeZone);

export const toCrmView = (r: ProvisioningRequest, timeZone: string): CrmProvisioningRequest => ({
  scheduled_date: formatCrmDate(new Date(r.scheduledAt), timeZone),
  response: r.response ?? null,
  error_code: r.errorCode ?? null,
  priority: r.priority,
  error_description: r.errorDescription ?? null,
  sequence_number: r.sequenceNumber ?? null,
  number: r.number,
  process_id: r.processId ?? null,
  name: null,
  parameters_set: r.parameters,
  process_immediately: r.processImmediately ? 1 : 0,
  request: r.request ?? null,
  log_information: {
    updated_date: formatCrmDate(new Date(r.updatedAt), timeZone),
    created_date: formatCrmDate(new Date(r.createdAt), timeZone),
    created_by_unit: r.createdByUnit,
    updated_by_unit: r.updatedByUnit,
    created_by_user: r.createdByUser,
    updated_by_user: r.updatedByUser,
  },
  life_cycle_state: r.lifeCycleState,
  type: REQUEST_TYPE,
  process_name: PROCESS_NAME,
  id: r.id,
  reference_number: r.referenceNumber ?? null,
  executed_date: dateOrNull(r.executedAt, timeZone),
});

/** The fields a client may select with `fields_set` on show. */
export const CRM_FIELDS: readonly (keyof CrmProvisioningRequest)[] = [
  'scheduled_date',
  'response',
  'error_code',
  'priority',
  'error_description',
  'sequence_number',
  'number',
  'process_id',
  'name',
  'parameters_set',
  'process_immediately',
  'request',
  'log_information',
  'life_cycle_state',
  'type',
  'process_name',
  'id',
  'reference_number',
  'executed_date',
];

/**
 * When the processing run should next look at a new request. A process-immediately request is on its way
 * through the queue, so the run only looks after a grace period (in case the send was lost); a scheduled one
 * is due at its scheduled date, or at once if that is past.
 */
export const firstDueAt = (
  r: Pick<ProvisioningRequest, 'processImmediately' | 'scheduledAt'>,
  now: Date,
  immediateGraceMs: number,
): Date => {
  if (r.processImmediately) return new Date(now.getTime() + immediateGraceMs);
  const scheduled = new Date(r.scheduledAt);
  return scheduled > now ? scheduled : now;
};

/**
 * Due-index partition of a request: priority first (EXPRESS is read before REGULAR), then a shard derived from
 * the id so that no single index partition takes every write.
 */
export const dueShardOf = (id: string, priority: Priority, shards: number): string =>
  `${priority}#${Number.parseInt(id.slice(0, 8), 16) % shards}`;

/**
 * The request as its create answered it: PENDING, nothing executed, updated when created. An Idempotency-Key
 * repeat answers exactly this (SPEC §2.3), whatever has happened to the request since.
 */
export const asCreated = (r: ProvisioningRequest): ProvisioningRequest => ({
  ...r,
  lifeCycleState: 'PENDING',
  updatedAt: r.createdAt,
  updatedByUser: r.createdByUser,
  updatedByUnit: r.createdByUnit,
  executedAt: undefined,
  referenceNumber: undefined,
  sequenceNumber: undefined,
  processId: undefined,
  request: undefined,
  response: undefined,
  errorCode: undefined,
  errorDescription: undefined,
});

/** A new PENDING request for an accepted command, as the creator's user and unit, in the creator's organisation. */
export const newProvisioningRequest = (
  command: { priority: Priority; processImmediately: boolean; scheduledAt?: Date },
  target: ClearPinTarget,
  session: Pick<Session, 'organisation' | 'user' | 'unit'>,
  number: string,
  now: Date,
  id: string = newId(),
): ProvisioningRequest => {
  const { smartcard, subscription } = target;
  return {
    id,
    organisation: session.organisation,
    number,
    priority: command.priority,
    processImmediately: command.processImmediately,
    scheduledAt: (command.scheduledAt ?? now).toISOString(),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    lifeCycleState: 'PENDING',
    subscriptionId: subscription.id,
    installedItemId: smartcard.id,
    smartcardCaId: smartcard.smartcard_ca_id,
    // The shape of CRM.COM's clear_pin example: four parameters, two of them named.
    parameters: [
      { id: newId() },
      { smartcard_ca_id: smartcard.smartcard_ca_id, id: newId() },
      { id: newId() },
      { sub_provisioning_distribution_id: smartcard.sub_provisioning_distribution_id ?? subscription.id, id: newId() },
    ],
    createdByUser: session.user,
    createdByUnit: session.unit,
    updatedByUser: session.user,
    updatedByUnit: session.unit,
    attempts: 0,
  };
};
