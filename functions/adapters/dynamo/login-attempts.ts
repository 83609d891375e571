import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  ATTEMPT_WINDOW_MS,
  type AttemptSlot,
  isLocked,
  isWindowOver,
  LOCKOUT_MS,
  type LoginAttempts,
  lockFrom,
  MAX_ATTEMPTS,
} from '../../domain/login-attempts.ts';
import type { LoginAttemptStore } from '../../use-cases/ports.ts';
import { conditionalUpdate, isConditionFailure } from './conditional.ts';
import { epochSeconds, keys } from './keys.ts';

const attemptsFromItem = (item: Record<string, unknown> | undefined): LoginAttempts | undefined =>
  item && {
    slots: item.slots as number,
    windowStart: new Date(item.windowStart as string),
    lockedUntil: item.lockedUntil === undefined ? undefined : new Date(item.lockedUntil as string),
  };

/** Not locked now: no lock, or one that has ended. */
const UNLOCKED = '(attribute_not_exists(lockedUntil) OR lockedUntil <= :now)';

/**
 * The attempt slots of domain/login-attempts.ts, each taken by one conditional write, so that any number of
 * parallel attempts take at most the 5 slots of a window between them.
 */
export const createLoginAttemptStore = (client: DynamoDBDocumentClient, tableName: string): LoginAttemptStore => {
  const values = (now: Date) => ({
    ':now': now.toISOString(),
    ':cutoff': new Date(now.getTime() - ATTEMPT_WINDOW_MS).toISOString(),
    ':ttl': epochSeconds(new Date(now.getTime() + ATTEMPT_WINDOW_MS + LOCKOUT_MS)),
  });

  /** One of the first four slots of the window (or the first of a new username). */
  const takeEarlySlot = (pk: string, now: Date) =>
    conditionalUpdate(
      client,
      new UpdateCommand({
        TableName: tableName,
        Key: { pk },
        UpdateExpression: 'SET windowStart = if_not_exists(windowStart, :now), #ttl = :ttl ADD slots :one',
        ConditionExpression: `attribute_not_exists(pk) OR (windowStart > :cutoff AND slots < :last AND ${UNLOCKED})`,
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ...values(now), ':one': 1, ':last': MAX_ATTEMPTS - 1 },
      }),
    );

  /** The last slot, which sets the lock in the same write. */
  const takeLastSlot = (pk: string, now: Date, lockedUntil: Date) =>
    conditionalUpdate(
      client,
      new UpdateCommand({
        TableName: tableName,
        Key: { pk },
        UpdateExpression: 'SET slots = :max, lockedUntil = :until, #ttl = :ttl',
        ConditionExpression: `windowStart > :cutoff AND slots = :last AND ${UNLOCKED}`,
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ...values(now),
          ':max': MAX_ATTEMPTS,
          ':last': MAX_ATTEMPTS - 1,
          ':until': lockedUntil.toISOString(),
        },
      }),
    );

  /** A new window, unless another attempt changed the record since it was read. */
  const startWindow = async (pk: string, now: Date, seen: LoginAttempts) => {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk, slots: 1, windowStart: now.toISOString(), ttl: values(now)[':ttl'] },
          ConditionExpression: 'windowStart = :seen',
          ExpressionAttributeValues: { ':seen': seen.windowStart.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  };

  return {
    async takeAttempt(organisation, username, now) {
      const pk = keys.loginAttempts(organisation, username);
      // Each round reads the record only when both conditional writes refused; a lost race starts it again.
      for (let round = 0; round < 3; round += 1) {
        if (await takeEarlySlot(pk, now)) return { taken: true };
        const lockedUntil = lockFrom(now);
        if (await takeLastSlot(pk, now, lockedUntil)) return { taken: true, lockedUntil };
        const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { pk }, ConsistentRead: true }));
        const seen = attemptsFromItem(Item);
        if (seen && isLocked(seen, now)) return { taken: false, lockedUntil: seen.lockedUntil as Date };
        if (seen && isWindowOver(seen, now) && (await startWindow(pk, now, seen))) return { taken: true };
      }
      // Still racing after three rounds: as good as locked for a moment; the client retries.
      return { taken: false, lockedUntil: new Date(now.getTime() + 1000) } satisfies AttemptSlot;
    },

    async clearAfterSuccess(organisation, username, now, ownLock) {
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { pk: keys.loginAttempts(organisation, username) },
            ConditionExpression: ownLock ? `${UNLOCKED} OR lockedUntil = :own` : UNLOCKED,
            ExpressionAttributeValues: { ':now': now.toISOString(), ...(ownLock && { ':own': ownLock.toISOString() }) },
          }),
        );
        return { cleared: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const { Item } = await client.send(
          new GetCommand({
            TableName: tableName,
            Key: { pk: keys.loginAttempts(organisation, username) },
            ConsistentRead: true,
          }),
        );
        return { cleared: false, lockedUntil: attemptsFromItem(Item)?.lockedUntil ?? lockFrom(now) };
      }
    },
  };
};
