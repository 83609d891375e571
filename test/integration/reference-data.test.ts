import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { derivedId } from '../../functions/domain/identifiers.ts';
import { DEMO_DATA_PATH } from '../../infra/local/local-stack.ts';
import { createTable, LOCAL_AWS_ENV, type LocalService, startDynamo } from '../../infra/local/services.ts';
import { loadReferenceData, type ReferenceData } from '../../infra/tools/reference-data.ts';

const run = promisify(execFile);
const TABLES = { table: 'reference-test-main' };
const demo = JSON.parse(readFileSync(DEMO_DATA_PATH, 'utf8')) as ReferenceData;

let dynamo: LocalService;
let document: DynamoDBDocumentClient;
const cliEnv = () => ({ ...process.env, ...LOCAL_AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });

beforeAll(async () => {
  dynamo = await startDynamo();
  await createTable(dynamo.endpoint, TABLES.table);
  document = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    }),
  );
});

afterAll(async () => {
  document.destroy();
  await dynamo.stop();
});

const storedUser = async () =>
  (
    await document.send(
      new GetCommand({ TableName: TABLES.table, Key: { pk: keys.user('CRMDEMO', 'MPAdministrator') } }),
    )
  ).Item;

describe('the reference-data loader', () => {
  it('writes everything once, and a second load of the same file changes nothing', async () => {
    const first = await loadReferenceData(document, TABLES.table, demo);
    const userAfterFirst = await storedUser();
    const second = await loadReferenceData(document, TABLES.table, demo);

    expect(first.written).toBeGreaterThan(0);
    expect(second).toEqual({ written: 0, unchanged: first.written + first.unchanged });
    // The password is stored hashed, never in clear, and the salted hash is kept because it still verifies.
    expect(userAfterFirst?.password_hash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(userAfterFirst)).not.toContain('"1234"');
    expect((await storedUser())?.password_hash).toBe(userAfterFirst?.password_hash);
  });

  it('rewrites only what changed', async () => {
    const changed = structuredClone(demo);
    const s60508 = changed.organisations[0]?.subscriptions.find((s) => s.number === 'S60508');
    if (!s60508?.installed_items[0]) throw new Error('demo data has no S60508 smartcard');
    s60508.installed_items[0].smartcard_ca_id = 'smrt200002';

    const result = await loadReferenceData(document, TABLES.table, changed);

    // The card is stored under its id and its serial number (it has no alternative code).
    expect(result.written).toBe(2);
    const card = await document.send(
      new GetCommand({ TableName: TABLES.table, Key: { pk: keys.itemBySerial('CRMDEMO', 'smrt20000055') } }),
    );
    expect(card.Item?.smartcard_ca_id).toBe('smrt200002');
    await loadReferenceData(document, TABLES.table, demo);
  });

  it("keys every record by its organisation, so one organisation's numbers never meet another's", async () => {
    await loadReferenceData(document, TABLES.table, demo);
    const get = async (pk: string) =>
      (await document.send(new GetCommand({ TableName: TABLES.table, Key: { pk } }))).Item;

    expect((await get(keys.subscriptionByNumber('CRMOTHER', 'S70001')))?.organisation).toBe('CRMOTHER');
    expect(await get(keys.subscriptionByNumber('CRMDEMO', 'S70001'))).toBeUndefined();
    expect((await get(keys.itemBySerial('CRMOTHER', 'smrt30000001')))?.smartcard_ca_id).toBe('smrt300000');
    expect(await get(keys.itemBySerial('CRMDEMO', 'smrt30000001'))).toBeUndefined();
    expect((await get(keys.user('CRMOTHER', 'OtherAdmin')))?.organisation).toBe('CRMOTHER');
  });

  it('takes a password already hashed by `npm run hash-password`, so a real stage’s file holds no password', async () => {
    const { stdout } = await run('sh', ['-c', "printf '%s' 'pin-reset-2026' | npm run -s hash-password"], {
      env: cliEnv(),
    });
    const hash = stdout.trim();
    expect(hash).toMatch(/^scrypt\$/);
    expect(hash).not.toContain('pin-reset-2026');
    const organisation = structuredClone(demo.organisations[0]) as (typeof demo.organisations)[number];
    const { password: _clear, ...user } = organisation.users[0] as (typeof organisation.users)[number];
    await loadReferenceData(document, TABLES.table, {
      organisations: [{ ...organisation, users: [{ ...user, password_hash: hash }], tokens: [] }],
    });
    expect((await storedUser())?.password_hash).toBe(hash);
    await expect(
      loadReferenceData(document, TABLES.table, {
        organisations: [{ ...organisation, users: [{ ...user, password: 'x', password_hash: hash }] }],
      }),
    ).rejects.toThrow(/exactly one of password and password_hash/);
    await loadReferenceData(document, TABLES.table, demo);
  });

  it('is the command the README documents, safe to run twice, and says how far it got', async () => {
    const args = ['run', '-s', 'load-reference-data', '--', '--table', TABLES.table, '--file', DEMO_DATA_PATH];
    const { stdout, stderr } = await run('npm', args, { env: cliEnv() });
    expect(stdout).toMatch(/0 items written, \d+ unchanged/);
    // Not a terminal here: the plain progress lines a CI log gets, the last one at the end of the reads.
    expect(stderr).toMatch(/read stored items \[=+\] (\d+)\/\1 items · elapsed \d+s · done/);
  });

  it('reports its progress by phase, up to the whole of each', async () => {
    // An organisation of its own with 30 subscriptions of one card each: 120 items, so more than one batch.
    const subscriptions = Array.from({ length: 30 }, (_, n) => ({
      id: derivedId('progress-sub', String(n)),
      number: `P${n}`,
      installed_items: [
        {
          id: derivedId('progress-item', String(n)),
          serial_number: `prog${n}`,
          classification: 'SMARTCARD' as const,
          provisioning_provider: 'NAGRAVISION',
          smartcard_ca_id: `prog${n}`,
        },
      ],
    }));
    const data = { organisations: [{ name: 'PROGRESSORG', units: [], users: [], subscriptions }] };
    const reports: string[] = [];
    await loadReferenceData(document, TABLES.table, data, {
      onProgress: (phase, done, total) => reports.push(`${phase} ${done}/${total}`),
    });
    expect(reports).toEqual(['read 100/120', 'read 120/120', ...[25, 50, 75, 100, 120].map((n) => `write ${n}/120`)]);
  });
});

describe('the list-requests operator command', () => {
  it('lists the stored requests of a state, and refuses to run without a table', async () => {
    const id = 'ABCDEF0123456789ABCDEF0123456789';
    await document.send(
      new PutCommand({
        TableName: TABLES.table,
        Item: {
          pk: keys.request(id),
          id,
          organisation: 'CRMDEMO',
          number: '7',
          lifeCycleState: 'PENDING',
          priority: 'EXPRESS',
          attempts: 0,
        },
      }),
    );
    const list = (state: string) =>
      run('npm', ['run', '-s', 'list-requests', '--', '--table', TABLES.table, '--state', state], { env: cliEnv() });

    expect((await list('PENDING')).stdout).toContain(id);
    expect((await list('COMPLETED')).stdout).not.toContain(id);
    await expect(run('npm', ['run', '-s', 'list-requests'], { env: { ...cliEnv(), TABLE_NAME: '' } })).rejects.toThrow(
      /usage: npm run list-requests/,
    );
  });
});
