import type { Identifier } from '../domain/identifiers.ts';
import type { InstalledItem, Subscription } from '../domain/installed-item.ts';
import type { ListCriteria } from '../domain/list-query.ts';
import type { AttemptSlot } from '../domain/login-attempts.ts';
import type { ProvisioningEvent } from '../domain/provisioning-event.ts';
import type { Priority, ProvisioningRequest } from '../domain/provisioning-request.ts';
import type { TransientReason } from '../domain/retry-policy.ts';
import type { Session, User } from '../domain/session.ts';

/**
 * Every interface a use case needs. Adapters (DynamoDB, SQS, HTTP) and the platform (logging, metrics)
 * implement them; entry points compose them and pass them in. Nothing here names an AWS service.
 */

/** Structured log lines; attributes never carry a secret. */
export interface Log {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

export type MetricUnit = 'Count' | 'Milliseconds' | 'Seconds';

/** Business metrics, published once per invocation by the entry point. */
export interface Metrics {
  addMetric(name: string, unit: MetricUnit, value: number): void;
}

export type Telemetry = { log: Log; metrics: Metrics };

export interface SessionStore {
  find(tokenHash: string): Promise<Session | undefined>;
  save(tokenHash: string, session: Session): Promise<void>;
  touch(tokenHash: string, at: Date): Promise<void>;
  remove(tokenHash: string): Promise<void>;
}

export interface UserStore {
  find(organisation: string, username: string): Promise<User | undefined>;
}

/** The lock-out's attempt slots (domain/login-attempts.ts), each taken atomically. */
export interface LoginAttemptStore {
  /** Takes one of the username's slots before its password is judged; refused while the username is locked. */
  takeAttempt(organisation: string, username: string, now: Date): Promise<AttemptSlot>;
  /**
   * After a right password: clears the slots, unless a lock set by another attempt holds (`ownLock` is the lock
   * this attempt set itself, if it took the last slot).
   */
  clearAfterSuccess(
    organisation: string,
    username: string,
    now: Date,
    ownLock?: Date,
  ): Promise<{ cleared: true } | { cleared: false; lockedUntil: Date }>;
}

export type SubscriptionIdentifier = Identifier<'id' | 'number'>;
export type SmartcardIdentifier = Identifier<'id' | 'serial_number' | 'alternative_code'>;

export type ClearPinTargets = { subscription?: Subscription; item?: InstalledItem; keyed?: ProvisioningRequest };

export interface ReferenceStore {
  /**
   * In one round trip, within the organisation: the subscription, the installed item and, for a create with an
   * Idempotency-Key, the request already stored under that key's id.
   */
  findTarget(
    organisation: string,
    subscription: SubscriptionIdentifier,
    item: SmartcardIdentifier,
    keyedRequestId?: string,
  ): Promise<ClearPinTargets>;
}

export type DuePlacement = { shard: string; at: Date };

export interface RequestStore {
  nextNumber(): Promise<string>;
  /** Writes a new PENDING request; never overwrites: `exists` when another create holds its id. */
  create(request: ProvisioningRequest, due: DuePlacement): Promise<'created' | 'exists'>;
  /** The request, if it belongs to the organisation. */
  findById(organisation: string, id: string): Promise<ProvisioningRequest | undefined>;
  findByNumber(organisation: string, number: string): Promise<ProvisioningRequest | undefined>;
  /**
   * Cancels a request that was never claimed nor sent (SPEC §2.7), by one conditional write that a worker's claim
   * cannot interleave with: `in-progress` when a claim or an attempt came first, `final` when it had ended.
   */
  cancel(
    request: ProvisioningRequest,
    by: Pick<Session, 'user' | 'unit'>,
    now: Date,
  ): Promise<{ outcome: 'cancelled'; request: ProvisioningRequest } | { outcome: 'in-progress' | 'final' }>;
}

/** The list of SPEC §2.6: every filter served by a query on an index designed for it (dynamo/keys.ts). */
export interface RequestList {
  /** One page of the organisation's requests matching the criteria, newest first, ties by number highest first. */
  page(organisation: string, criteria: ListCriteria): Promise<ProvisioningRequest[]>;
}

export interface WorkQueue {
  /**
   * Sends request ids to the worker; answers the ids that could not be sent. The correlation id travels with
   * each message so the worker's log lines join the API call's or the processing run's.
   */
  send(requestIds: string[], correlationId?: string): Promise<{ failed: string[] }>;
}

export type DueEntry = { id: string; dueAt: string };

/** The processing run's side of the request table: the due index. */
export interface DueIndex {
  /** One page of the due index partition, oldest first, whose next look is at or before `now`. */
  findDue(shard: string, now: Date, limit: number, after?: unknown): Promise<{ entries: DueEntry[]; next?: unknown }>;
  /** Hands a due request on: moves its next look to `nextDueAt` unless someone else moved it first. */
  markDispatched(entry: DueEntry, nextDueAt: Date): Promise<boolean>;
}

export type Completion = {
  executedAt: Date;
  referenceNumber: string;
  sequenceNumber: string;
  processId: string;
  request: string;
  response: string;
};

export type Rejection = {
  executedAt: Date;
  errorCode: string;
  errorDescription: string;
  processId: string;
  request?: string;
  response?: string;
};

/** The worker's side of the request table: claims with leases, and the writes that hold only under a claim. */
export interface RequestClaims {
  /** Takes the lease on a PENDING request no one holds (or whose lease ran out); undefined if not possible. */
  claim(id: string, claimId: string, now: Date, leaseUntil: Date): Promise<ProvisioningRequest | undefined>;
  /** The final writes hold only while the claim is still this one; they answer the final request, or undefined. */
  complete(
    request: ProvisioningRequest,
    claimId: string,
    completion: Completion,
  ): Promise<ProvisioningRequest | undefined>;
  reject(request: ProvisioningRequest, claimId: string, rejection: Rejection): Promise<ProvisioningRequest | undefined>;
  /** Gives the claim up; the request is due again at `nextDueAt`. */
  release(id: string, claimId: string, nextDueAt: Date): Promise<boolean>;
  /** The deployment's order of sending (SPEC §3 `sequence_number`). */
  nextSequenceNumber(): Promise<string>;
}

/** One clear-PIN command for one smartcard; the request id identifies it to the headend. */
export type HeadendCommand = { transactionId: string; smartcardCaId: string; priority: Priority };

/**
 * What one call to the headend came to. `request` and `response` are the command and the reply as stored on
 * the provisioning request (never a credential). `detail` is a low-level hint for logs (e.g. ECONNRESET).
 */
export type HeadendOutcome =
  | { kind: 'accepted'; referenceNumber: string; request: string; response: string }
  | { kind: 'rejected'; errorCode: string; errorDescription: string; request: string; response: string }
  | { kind: 'transient'; reason: TransientReason; status?: number; detail?: string };

/** The CA headend, whichever protocol the stage speaks (SPEC §4). */
export interface HeadendClient {
  /** One call, within the adapter's caps on concurrency and rate. Never throws: every failure is an outcome. */
  send(command: HeadendCommand, signal?: AbortSignal): Promise<HeadendOutcome>;
}

/** Where the events of final states go (SPEC §3.1): the stage's EventBridge bus, or locally a webhook. */
export interface EventPublisher {
  /** Answers the request ids whose events could not be published (they stay in the outbox). */
  publish(events: ProvisioningEvent[]): Promise<{ failed: string[] }>;
}

export type OutboxEntry = { id: string; eventAt: string };

/** The events outbox: final requests whose event is not known to be published yet. */
export interface EventOutbox {
  /** Entries placed at or before `before`, oldest first, at most `limit`. */
  pending(before: Date, limit: number): Promise<OutboxEntry[]>;
  /** The requests of those entries (still in the organisation they were created in). */
  requests(entries: OutboxEntry[]): Promise<ProvisioningRequest[]>;
  /** Takes published entries out, unless a newer final write placed them again. */
  published(entries: OutboxEntry[]): Promise<void>;
}
