import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FAILURE_WINDOW_MS, isWindowOver, LOCKOUT_MS, type LoginFailures } from '../../domain/login-attempts.ts';
import type { User } from '../../domain/session.ts';
import type { UserStore } from '../../use-cases/ports.ts';
import { batchGetByPk } from './batch-get.ts';
import { epochSeconds, keys } from './keys.ts';

const failuresFromItem = (item: Record<string, unknown> | undefined): LoginFailures | undefined =>
  item && {
    count: item.count as number,
    windowStart: new Date(item.windowStart as string),
    lockedUntil: item.lockedUntil === undefined ? undefined : new Date(item.lockedUntil as string),
  };

const isConditionFailure = (error: Error) => error.name === 'ConditionalCheckFailedException';

export const createUserStore = (client: DynamoDBDocumentClient, tableName: string): UserStore => ({
  async findForLogin(organisation, username) {
    const userPk = keys.user(organisation, username);
    const failuresPk = keys.loginFailures(username);
    const found = await batchGetByPk(client, tableName, [userPk, failuresPk]);
    const { pk: _pk, ...user } = found.get(userPk) ?? {};
    return {
      user: found.has(userPk) ? (user as User) : undefined,
      failures: failuresFromItem(found.get(failuresPk)),
    };
  },

  async recordFailure(username, now) {
    const pk = keys.loginFailures(username);
    const ttl = epochSeconds(new Date(now.getTime() + FAILURE_WINDOW_MS + LOCKOUT_MS));
    const { Attributes } = await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk },
        UpdateExpression: 'SET windowStart = if_not_exists(windowStart, :now), #ttl = :ttl ADD #count :one',
        ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':now': now.toISOString(), ':one': 1, ':ttl': ttl },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const counted = failuresFromItem(Attributes) as LoginFailures;
    if (!isWindowOver(counted, now)) return counted;
    // The old window has passed: this failure starts a new one, unless a concurrent failure restarted it first.
    const restarted = { count: 1, windowStart: now };
    await client
      .send(
        new PutCommand({
          TableName: tableName,
          Item: { pk, count: 1, windowStart: now.toISOString(), ttl },
          ConditionExpression: 'windowStart = :old',
          ExpressionAttributeValues: { ':old': counted.windowStart.toISOString() },
        }),
      )
      .catch((error: Error) => {
        if (!isConditionFailure(error)) throw error;
      });
    return restarted;
  },

  async lock(username, until) {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: keys.loginFailures(username) },
        UpdateExpression: 'SET lockedUntil = :until',
        ExpressionAttributeValues: { ':until': until.toISOString() },
      }),
    );
  },

  async clearFailures(username) {
    await client.send(new DeleteCommand({ TableName: tableName, Key: { pk: keys.loginFailures(username) } }));
  },
});
