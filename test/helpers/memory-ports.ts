import { hashToken } from '../../functions/domain/credentials.ts';
import type { InstalledItem, Subscription } from '../../functions/domain/installed-item.ts';
import {
  type AttemptSlot,
  isLocked,
  isWindowOver,
  lockFrom,
  MAX_ATTEMPTS,
} from '../../functions/domain/login-attempts.ts';
import type { ProvisioningEvent } from '../../functions/domain/provisioning-event.ts';
import { CANCELLED, type ProvisioningRequest } from '../../functions/domain/provisioning-request.ts';
import type { Session, User } from '../../functions/domain/session.ts';
import type {
  EventOutbox,
  EventPublisher,
  HeadendClient,
  HeadendOutcome,
  LoginAttemptStore,
  ReferenceStore,
  RequestClaims,
  RequestStore,
  SessionStore,
  UserStore,
  WorkQueue,
} from '../../functions/use-cases/ports.ts';
import { SEED_UNIT, SEED_USER } from './seed.ts';

/**
 * In-memory ports for the use cases' unit tests: each keeps the promise its port states (a conditional write that
 * refuses, a claim that only one holder gets), so the tests exercise the use cases' own logic. The DynamoDB, SQS
 * and HTTP adapters themselves are tested against dynalite, fauxqs and the simulator.
 */
export const ORGANISATION = 'CRMDEMO';
export const TOKEN = 'A7AD3752AC7B48099A80E62C8F0BE565';

export const SUBSCRIPTION: Subscription = { id: 'F5D3986886C979E7ECAB2E7C63684311', number: 'S60507' };
export const SMARTCARD: InstalledItem = {
  id: 'DAAEF64FDDCF3BF558D1BC34B8B1CB62',
  serial_number: 'smrt20000054',
  subscription_id: SUBSCRIPTION.id,
  classification: 'SMARTCARD',
  provisioning_provider: 'NAGRAVISION',
  smartcard_ca_id: 'smrt200000',
};

export const session = (lastUsedAt: Date): Session => ({
  organisation: ORGANISATION,
  user: { ...SEED_USER },
  unit: { ...SEED_UNIT },
  lastUsedAt,
});

export const memorySessions = (sessions: Map<string, Session> = new Map()) => {
  const touched: string[] = [];
  const store: SessionStore = {
    find: async (hash) => sessions.get(hash),
    save: async (hash, value) => {
      sessions.set(hash, value);
    },
    touch: async (hash, at) => {
      const found = sessions.get(hash);
      if (found) sessions.set(hash, { ...found, lastUsedAt: at });
      touched.push(hash);
    },
    remove: async (hash) => {
      sessions.delete(hash);
    },
  };
  return Object.assign(store, { sessions, touched });
};

export const sessionsWithToken = (now: Date) => memorySessions(new Map([[hashToken(TOKEN), session(now)]]));

/** The reference data of one organisation: subscriptions and items by every identifier a client may use. */
export const memoryReference = (
  requests: Map<string, ProvisioningRequest>,
  items: { subscription: Subscription; item: InstalledItem }[] = [{ subscription: SUBSCRIPTION, item: SMARTCARD }],
): ReferenceStore & { reads: number } => {
  const store = {
    reads: 0,
    async findTarget(organisation, subscription, item, keyedRequestId) {
      store.reads += 1;
      const inOrg = organisation === ORGANISATION;
      const sub = items.find((i) => i.subscription[subscription.field] === subscription.value)?.subscription;
      const card = items.find((i) => (i.item as Record<string, unknown>)[item.field] === item.value)?.item;
      const keyed = keyedRequestId === undefined ? undefined : requests.get(keyedRequestId);
      return {
        subscription: inOrg ? sub : undefined,
        item: inOrg ? card : undefined,
        keyed: keyed?.organisation === organisation ? keyed : undefined,
      };
    },
  } satisfies ReferenceStore & { reads: number };
  return store;
};

export const memoryRequests = (requests: Map<string, ProvisioningRequest> = new Map()) => {
  let number = 0;
  const store: RequestStore = {
    nextNumber: async () => String(++number),
    async create(request) {
      if (requests.has(request.id)) return 'exists';
      requests.set(request.id, structuredClone(request));
      return 'created';
    },
    findById: async (organisation, id) => {
      const found = requests.get(id);
      return found?.organisation === organisation ? structuredClone(found) : undefined;
    },
    findByNumber: async (organisation, wanted) =>
      [...requests.values()].find((r) => r.number === wanted && r.organisation === organisation),
    async cancel(request, by, now) {
      const stored = requests.get(request.id);
      if (stored?.lifeCycleState !== 'PENDING') return { outcome: 'final' };
      if (stored.attempts > 0) return { outcome: 'in-progress' };
      const cancelled: ProvisioningRequest = {
        ...stored,
        lifeCycleState: 'REJECTED',
        errorCode: CANCELLED,
        errorDescription: `Cancelled by ${by.user.username}`,
        updatedByUser: by.user,
        updatedByUnit: by.unit,
        updatedAt: now.toISOString(),
      };
      requests.set(request.id, cancelled);
      return { outcome: 'cancelled', request: structuredClone(cancelled) };
    },
  };
  return Object.assign(store, { requests });
};

/** Claims as the port promises them: one holder at a time, final writes only under the holder's claim. */
export const memoryClaims = (requests: Map<string, ProvisioningRequest>) => {
  const holders = new Map<string, { claimId: string; until: Date }>();
  const released: { id: string; nextDueAt: Date }[] = [];
  let sequence = 0;
  const finish = (id: string, claimId: string, change: Partial<ProvisioningRequest>) => {
    if (holders.get(id)?.claimId !== claimId) return undefined;
    holders.delete(id);
    const done = { ...(requests.get(id) as ProvisioningRequest), ...change };
    requests.set(id, done);
    return structuredClone(done);
  };
  const claims: RequestClaims = {
    async claim(id, claimId, now, leaseUntil) {
      const request = requests.get(id);
      const holder = holders.get(id);
      if (request?.lifeCycleState !== 'PENDING' || (holder && holder.until >= now)) return undefined;
      holders.set(id, { claimId, until: leaseUntil });
      request.attempts += 1;
      return structuredClone(request);
    },
    complete: async (request, claimId, c) =>
      finish(request.id, claimId, {
        lifeCycleState: 'COMPLETED',
        executedAt: c.executedAt.toISOString(),
        updatedAt: c.executedAt.toISOString(),
        referenceNumber: c.referenceNumber,
        sequenceNumber: c.sequenceNumber,
        processId: c.processId,
        request: c.request,
        response: c.response,
      }),
    reject: async (request, claimId, r) =>
      finish(request.id, claimId, {
        lifeCycleState: 'REJECTED',
        executedAt: r.executedAt.toISOString(),
        updatedAt: r.executedAt.toISOString(),
        errorCode: r.errorCode,
        errorDescription: r.errorDescription,
        processId: r.processId,
        request: r.request,
        response: r.response,
      }),
    async release(id, claimId, nextDueAt) {
      if (holders.get(id)?.claimId !== claimId) return false;
      holders.delete(id);
      released.push({ id, nextDueAt });
      return true;
    },
    nextSequenceNumber: async () => String(++sequence),
  };
  return Object.assign(claims, { holders, released });
};

/** A headend that answers the scripted outcomes in turn (then the last one again) and counts its calls. */
export const scriptedHeadend = (...outcomes: HeadendOutcome[]) => {
  const calls: string[] = [];
  const headend: HeadendClient = {
    async send(command) {
      calls.push(command.transactionId);
      return outcomes[Math.min(calls.length - 1, outcomes.length - 1)] as HeadendOutcome;
    },
  };
  return Object.assign(headend, { calls });
};

export const recordingQueue = (failing = false) => {
  const sent: { ids: string[]; correlationId?: string }[] = [];
  const queue: WorkQueue = {
    async send(ids, correlationId) {
      sent.push({ ids, correlationId });
      return { failed: failing ? ids : [] };
    },
  };
  return Object.assign(queue, { sent });
};

export const recordingEvents = (failing = false) => {
  const published: ProvisioningEvent[] = [];
  const events: EventPublisher = {
    async publish(batch) {
      if (failing) return { failed: batch.map((e) => e.requestId) };
      published.push(...batch);
      return { failed: [] };
    },
  };
  return Object.assign(events, { published });
};

export const memoryOutbox = () => {
  const done: string[] = [];
  const outbox: EventOutbox = {
    pending: async () => [],
    requests: async () => [],
    published: async (entries) => {
      done.push(...entries.map((e) => e.id));
    },
  };
  return Object.assign(outbox, { done });
};

export const memoryUsers = (users: User[]): UserStore => ({
  find: async (organisation, username) => users.find((u) => u.organisation === organisation && u.username === username),
});

/** The slots of domain/login-attempts.ts, each take atomic (one at a time in this process). */
export const memoryAttempts = () => {
  const records = new Map<string, { slots: number; windowStart: Date; lockedUntil?: Date }>();
  const store: LoginAttemptStore = {
    async takeAttempt(organisation, username, now): Promise<AttemptSlot> {
      const key = `${organisation}#${username}`;
      const record = records.get(key);
      if (record && isLocked(record, now)) return { taken: false, lockedUntil: record.lockedUntil as Date };
      if (!record || isWindowOver(record, now)) {
        records.set(key, { slots: 1, windowStart: now });
        return { taken: true };
      }
      record.slots += 1;
      if (record.slots < MAX_ATTEMPTS) return { taken: true };
      record.lockedUntil = lockFrom(now);
      return { taken: true, lockedUntil: record.lockedUntil };
    },
    async clearAfterSuccess(organisation, username, now, ownLock) {
      const key = `${organisation}#${username}`;
      const record = records.get(key);
      if (record && isLocked(record, now) && record.lockedUntil?.getTime() !== ownLock?.getTime()) {
        return { cleared: false, lockedUntil: record.lockedUntil as Date };
      }
      records.delete(key);
      return { cleared: true };
    },
  };
  return Object.assign(store, { records });
};
