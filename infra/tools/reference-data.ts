import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { batchGetByPk } from '../../functions/adapters/dynamo/batch-get.ts';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { sessionItem } from '../../functions/adapters/dynamo/sessions.ts';
import {
  hashPassword,
  hashToken,
  isTokenLive,
  TOKEN_PATTERN,
  verifyPassword,
} from '../../functions/domain/credentials.ts';
import { canonical } from '../../functions/domain/fingerprint.ts';
import { ID_PATTERN, MAX_IDENTIFIER_LENGTH } from '../../functions/domain/identifiers.ts';

const id = z.string().regex(ID_PATTERN, 'must be 32 uppercase hex characters');
const identifier = z.string().min(1).max(MAX_IDENTIFIER_LENGTH);

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
  serial_number: identifier,
  alternative_code: identifier.optional(),
  classification: z.enum(['SMARTCARD', 'STB']),
  provisioning_provider: z.string().min(1),
  smartcard_ca_id: z.string().min(1).optional(),
  sub_provisioning_distribution_id: id.optional(),
});

const userSchema = z
  .strictObject({
    id: z.string().min(1),
    username: identifier,
    person_name: z.string(),
    /** In clear, hashed on load (local demo data); or already hashed, so a real stage's file holds no password. */
    password: z.string().min(1).optional(),
    password_hash: z.string().startsWith('scrypt$', 'must be a hash written by `npm run hash-password`').optional(),
    default_unit_id: id,
    unit_ids: z.array(id).min(1),
  })
  .refine((user) => (user.password === undefined) !== (user.password_hash === undefined), {
    message: 'give exactly one of password and password_hash',
  });

/**
 * One organisation's reference data (SPEC §2: users, units, subscriptions and installed items belong to one
 * organisation; nothing of one is visible to another).
 */
const organisationSchema = z.strictObject({
  name: identifier,
  units: z.array(unitSchema),
  users: z.array(userSchema),
  subscriptions: z.array(z.strictObject({ id, number: identifier, installed_items: z.array(installedItemSchema) })),
  /** Fixed tokens, for the local demo only (the seed's curl uses one); a deployed stage should have none. */
  tokens: z
    .array(
      z.strictObject({
        token: z.string().regex(TOKEN_PATTERN, 'must be 32 hex digits'),
        username: z.string(),
        unit_id: id,
      }),
    )
    .default([]),
});

/** The reference-data file: what a stage needs before its first login (docs/deploy.md shows an example). */
export const referenceDataSchema = z.strictObject({
  organisations: z.array(organisationSchema).min(1),
});

export type ReferenceData = z.input<typeof referenceDataSchema>;

type Item = Record<string, unknown> & { pk: string };

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Reported after each batch read or written, so that a long load shows how far it got. */
export type LoadProgress = (phase: 'read' | 'write', done: number, total: number) => void;

/**
 * Writes each organisation's users (passwords hashed), subscriptions and installed items (one copy under each
 * identifier a client may use, every key starting with the organisation) and demo tokens (hashed). Idempotent:
 * an item already stored as wanted is not written again; a stored password hash that still verifies is kept, and
 * a demo token is only re-created when it is gone or dead.
 */
export const loadReferenceData = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  input: ReferenceData,
  options: { now?: Date; onProgress?: LoadProgress } = {},
): Promise<{ written: number; unchanged: number }> => {
  const now = options.now ?? new Date();
  const data = referenceDataSchema.parse(input);
  const plain: Item[] = [];
  const users: { password?: string; item: Item }[] = [];
  const tokens: Item[] = [];

  for (const organisation of data.organisations) {
    const org = organisation.name;
    const units = new Map(organisation.units.map((u) => [u.id, u]));
    const unitOf = (unitId: string) => {
      const unit = units.get(unitId);
      if (!unit) throw new Error(`Organisation ${org}: unknown unit ${unitId}`);
      return unit;
    };
    for (const { installed_items, ...sub } of organisation.subscriptions) {
      const stored = { ...sub, organisation: org };
      plain.push(
        { pk: keys.subscriptionById(org, sub.id), ...stored },
        { pk: keys.subscriptionByNumber(org, sub.number), ...stored },
      );
      for (const item of installed_items) {
        const storedItem = { ...item, subscription_id: sub.id, organisation: org };
        plain.push(
          { pk: keys.itemById(org, item.id), ...storedItem },
          { pk: keys.itemBySerial(org, item.serial_number), ...storedItem },
        );
        if (item.alternative_code) plain.push({ pk: keys.itemByAltCode(org, item.alternative_code), ...storedItem });
      }
    }
    for (const { password, password_hash, unit_ids, ...user } of organisation.users) {
      const item = { pk: keys.user(org, user.username), ...user, organisation: org, units: unit_ids.map(unitOf) };
      users.push(password === undefined ? { item: { ...item, password_hash } } : { password, item });
    }
    for (const t of organisation.tokens) {
      const user = organisation.users.find((u) => u.username === t.username);
      if (!user) throw new Error(`Organisation ${org}: token for unknown user ${t.username}`);
      const session = {
        organisation: org,
        user: { id: user.id, username: user.username, person_name: user.person_name },
        unit: unitOf(t.unit_id),
        lastUsedAt: now,
      };
      tokens.push(sessionItem(hashToken(t.token), session) as Item);
    }
  }

  const existing = await readAll(
    client,
    tableName,
    [...plain, ...users.map((u) => u.item), ...tokens].map((i) => i.pk),
    (done, total) => options.onProgress?.('read', done, total),
  );
  const toWrite: Item[] = plain.filter((item) => !sameJson(canonical(existing.get(item.pk)), canonical(item)));
  for (const { password, item } of users) {
    const stored = existing.get(item.pk);
    const storedHash = stored?.password_hash as string | undefined;
    if (password === undefined) {
      if (!sameJson(canonical(stored), canonical(item))) toWrite.push(item);
    } else if (storedHash && (await verifyPassword(password, storedHash))) {
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
    options.onProgress?.('write', Math.min(i + 25, toWrite.length), toWrite.length);
  }
  const total = plain.length + users.length + tokens.length;
  return { written: toWrite.length, unchanged: total - toWrite.length };
};

const readAll = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  pks: string[],
  onRead: (done: number, total: number) => void,
) => {
  const found = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < pks.length; i += 100) {
    for (const [pk, item] of await batchGetByPk(client, tableName, pks.slice(i, i + 100))) found.set(pk, item);
    onRead(Math.min(i + 100, pks.length), pks.length);
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
