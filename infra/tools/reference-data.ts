import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { batchGetByPk } from '../../functions/adapters/dynamo/batch-get.ts';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { sessionItem } from '../../functions/adapters/dynamo/sessions.ts';
import { hashPassword, hashToken, isTokenLive, verifyPassword } from '../../functions/domain/credentials.ts';
import { canonical } from '../../functions/domain/fingerprint.ts';
import { ID_PATTERN } from '../../functions/domain/identifiers.ts';

const id = z.string().regex(ID_PATTERN, 'must be 32 uppercase hex characters');

const unitSchema = z.strictObject({
  id,
  name: z.string(),
  group_name: z.string(),
  community_name: z.string(),
  description: z.string().default(''),
  alternative_code: z.string(),
});

const installedItemSchema = z.strictObject({
  id,
  serial_number: z.string().min(1),
  alternative_code: z.string().min(1).optional(),
  classification: z.enum(['SMARTCARD', 'STB']),
  provisioning_provider: z.string().min(1),
  smartcard_ca_id: z.string().min(1).optional(),
  sub_provisioning_distribution_id: id.optional(),
});

/** The reference-data file: what a stage needs before its first login. */
export const referenceDataSchema = z.strictObject({
  units: z.array(unitSchema),
  users: z.array(
    z.strictObject({
      id: z.string().min(1),
      username: z.string().min(1),
      person_name: z.string(),
      organisation: z.string().min(1),
      password: z.string().min(1),
      default_unit_id: id,
      unit_ids: z.array(id).min(1),
    }),
  ),
  subscriptions: z.array(
    z.strictObject({ id, number: z.string().min(1), installed_items: z.array(installedItemSchema) }),
  ),
  /** Fixed tokens, for the local demo only (the seed's curl uses one); a deployed stage should have none. */
  tokens: z
    .array(z.strictObject({ token: z.string().min(1), organisation: z.string(), username: z.string(), unit_id: id }))
    .default([]),
});

export type ReferenceData = z.input<typeof referenceDataSchema>;

type Item = Record<string, unknown> & { pk: string };

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Writes users (passwords hashed), subscriptions and installed items (one copy under each identifier a client
 * may use) and demo tokens (hashed). Idempotent: an item already stored as wanted is not written again; a
 * stored password hash that still verifies is kept, and a demo token is only re-created when it is gone or dead.
 */
export const loadReferenceData = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  input: ReferenceData,
  now = new Date(),
): Promise<{ written: number; unchanged: number }> => {
  const data = referenceDataSchema.parse(input);
  const units = new Map(data.units.map((u) => [u.id, u]));
  const unitOf = (unitId: string) => {
    const unit = units.get(unitId);
    if (!unit) throw new Error(`Unknown unit ${unitId}`);
    return unit;
  };

  const plain: Item[] = [];
  for (const subscription of data.subscriptions) {
    const { installed_items, ...sub } = subscription;
    plain.push({ pk: keys.subscriptionById(sub.id), ...sub }, { pk: keys.subscriptionByNumber(sub.number), ...sub });
    for (const item of installed_items) {
      const stored = { ...item, subscription_id: sub.id };
      plain.push({ pk: keys.itemById(item.id), ...stored }, { pk: keys.itemBySerial(item.serial_number), ...stored });
      if (item.alternative_code) plain.push({ pk: keys.itemByAltCode(item.alternative_code), ...stored });
    }
  }
  const users = data.users.map(({ password, unit_ids, ...user }) => ({
    password,
    item: { pk: keys.user(user.organisation, user.username), ...user, units: unit_ids.map(unitOf) } as Item,
  }));
  const tokens = data.tokens.map((t) => {
    const user = data.users.find((u) => u.username === t.username && u.organisation === t.organisation);
    if (!user) throw new Error(`Token for unknown user ${t.organisation}/${t.username}`);
    const session = {
      user: { id: user.id, username: user.username, person_name: user.person_name },
      unit: unitOf(t.unit_id),
      lastUsedAt: now,
    };
    return sessionItem(hashToken(t.token), session) as Item;
  });

  const existing = await readAll(
    client,
    tableName,
    [...plain, ...users.map((u) => u.item), ...tokens].map((i) => i.pk),
  );
  const toWrite: Item[] = plain.filter((item) => !sameJson(canonical(existing.get(item.pk)), canonical(item)));
  for (const { password, item } of users) {
    const stored = existing.get(item.pk);
    const storedHash = stored?.password_hash as string | undefined;
    if (storedHash && (await verifyPassword(password, storedHash))) {
      const wanted = { ...item, password_hash: storedHash };
      if (!sameJson(canonical(stored), canonical(wanted))) toWrite.push(wanted);
    } else {
      toWrite.push({ ...item, password_hash: await hashPassword(password) });
    }
  }
  for (const token of tokens) {
    const stored = existing.get(token.pk);
    if (!stored || !isTokenLive(new Date(stored.lastUsedAt as string), now)) toWrite.push(token);
  }

  for (let i = 0; i < toWrite.length; i += 25) {
    await writeBatch(client, tableName, toWrite.slice(i, i + 25));
  }
  const total = plain.length + users.length + tokens.length;
  return { written: toWrite.length, unchanged: total - toWrite.length };
};

const readAll = async (client: DynamoDBDocumentClient, tableName: string, pks: string[]) => {
  const found = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < pks.length; i += 100) {
    for (const [pk, item] of await batchGetByPk(client, tableName, pks.slice(i, i + 100))) found.set(pk, item);
  }
  return found;
};

const writeBatch = async (client: DynamoDBDocumentClient, tableName: string, items: Item[]) => {
  let pending: unknown[] = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 5) throw new Error('BatchWriteItem left items unprocessed after 5 retries');
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 20));
    const { UnprocessedItems } = await client.send(
      new BatchWriteCommand({ RequestItems: { [tableName]: pending as never } }),
    );
    pending = UnprocessedItems?.[tableName] ?? [];
  }
};
