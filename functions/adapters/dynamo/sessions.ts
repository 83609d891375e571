import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TOKEN_IDLE_MS, TOKEN_TOUCH_INTERVAL_MS } from '../../domain/credentials.ts';
import type { Session } from '../../domain/session.ts';
import type { SessionStore } from '../../use-cases/ports.ts';
import { epochSeconds, keys } from './keys.ts';

export type SessionItem = {
  pk: string;
  organisation: string;
  user: Session['user'];
  unit: Session['unit'];
  lastUsedAt: string;
  ttl: number;
};

const ttlFor = (lastUsedAt: Date) =>
  epochSeconds(new Date(lastUsedAt.getTime() + TOKEN_IDLE_MS + TOKEN_TOUCH_INTERVAL_MS));

export const sessionItem = (tokenHash: string, session: Session): SessionItem => ({
  pk: keys.token(tokenHash),
  organisation: session.organisation,
  user: session.user,
  unit: session.unit,
  lastUsedAt: session.lastUsedAt.toISOString(),
  ttl: ttlFor(session.lastUsedAt),
});

export const sessionFromItem = (item: Record<string, unknown> | undefined): Session | undefined =>
  item && {
    organisation: item.organisation as string,
    user: item.user as Session['user'],
    unit: item.unit as Session['unit'],
    lastUsedAt: new Date(item.lastUsedAt as string),
  };

export const createSessionStore = (client: DynamoDBDocumentClient, tableName: string): SessionStore => ({
  async find(tokenHash) {
    // Strongly consistent: a token released a moment ago must already be refused.
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: keys.token(tokenHash) }, ConsistentRead: true }),
    );
    return sessionFromItem(Item);
  },
  async save(tokenHash, session) {
    await client.send(new PutCommand({ TableName: tableName, Item: sessionItem(tokenHash, session) }));
  },
  async touch(tokenHash, at) {
    // Conditional: a token released meanwhile must not come back to life.
    await client
      .send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: keys.token(tokenHash) },
          UpdateExpression: 'SET lastUsedAt = :at, #ttl = :ttl',
          ConditionExpression: 'attribute_exists(pk) AND lastUsedAt < :at',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':at': at.toISOString(), ':ttl': ttlFor(at) },
        }),
      )
      .catch((error: Error) => {
        if (error.name !== 'ConditionalCheckFailedException') throw error;
      });
  },
  async remove(tokenHash) {
    await client.send(new DeleteCommand({ TableName: tableName, Key: { pk: keys.token(tokenHash) } }));
  },
});
