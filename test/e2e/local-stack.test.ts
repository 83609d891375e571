import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_LOGIN, DEMO_TOKEN } from '../helpers/demo.ts';
import { type Api, get, postJson, ROUTES, show } from '../helpers/http.ts';
import { CRM_DATE } from '../helpers/oracle.ts';
import { seedShapeProblems } from '../helpers/seed.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook.ts';

/**
 * `npm start` as a user runs it: the real entry point in its own process, the README's curl example, a
 * process-immediately request followed to COMPLETED, and a restart on the same data folder.
 */

const ROOT = join(import.meta.dirname, '..', '..');
/** The body of the curl example of the README (and of the banner `npm start` prints), verbatim. */
const CURL_BODY =
  '{"token":"A7AD3752AC7B48099A80E62C8F0BE565","subscription_identifier":{"number":"S60507"},"smartcard_identifier":{"serial_number":"smrt20000054"}}';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

type Running = { child: ChildProcess; output: () => string };

/** Starts `node infra/local/start.ts` and waits until its API answers. */
const startService = async (port: number, dataDir: string, env: Record<string, string> = {}): Promise<Running> => {
  const child = spawn(process.execPath, ['infra/local/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), LOCAL_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  try {
    // Up once the banner is printed (it comes last) and the API answers.
    await vi.waitFor(
      async () => {
        if (child.exitCode !== null) return;
        if (!output.includes('Demo token')) throw new Error(`npm start printed no banner within 30 s:\n${output}`);
        await fetch(`http://127.0.0.1:${port}/`).catch((cause) => {
          throw new Error(`npm start did not answer within 30 s:\n${output}`, { cause });
        });
      },
      { timeout: 30_000, interval: 200 },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
  return { child, output: () => output };
};

/** Stops it as Ctrl-C would and waits for it to exit. */
const stopService = async ({ child }: Running): Promise<number | null> => {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timeout = sleep(15_000).then(() => 'timeout' as const);
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    throw new Error('npm start did not stop on SIGTERM within 15 s');
  }
  return exited;
};

/** The README's curl example, sent to the queue at once. */
const createImmediately = () =>
  postJson(
    api,
    ROUTES.clearPin,
    { ...JSON.parse(CURL_BODY), process_immediately: true },
    {
      'Content-Type': 'application/json',
    },
  );

let port: number;
let dataDir: string;
let service: Running | undefined;
let api: Api;

beforeAll(async () => {
  port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'clear-pin-e2e-'));
  service = await startService(port, dataDir);
  api = { apiUrl: `http://127.0.0.1:${port}` };
});

afterAll(async () => {
  if (service) await stopService(service).catch(() => service?.child.kill('SIGKILL'));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  let first: Record<string, unknown>;
  let completed: Record<string, unknown>;

  it('prints its URL and the demo credentials', () => {
    const output = service?.output() ?? '';
    expect(output).toContain(`http://127.0.0.1:${port}`);
    expect(output).toContain(DEMO_TOKEN);
    expect(output).toContain(DEMO_LOGIN.username);
  });

  it('prints the curl example of the README', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`-d '${CURL_BODY}'`);
    expect(service?.output()).toContain(`-d '${CURL_BODY}'`);
  });

  it('answers the README’s curl example with 200 and the seed’s fields', async () => {
    const response = await postJson(api, ROUTES.clearPin, CURL_BODY, { 'Content-Type': 'application/json' });
    expect(response.status).toBe(200);
    expect(response.body?.status).toEqual({ message: '', description: '', code: 'OK' });
    expect(seedShapeProblems(response.body?.data)).toEqual([]);
    first = response.body?.data;
  });

  it('takes a process_immediately request to COMPLETED through the queue, the worker and the headend', async () => {
    const created = await createImmediately();
    expect(created.status).toBe(200);
    expect(created.body?.data.life_cycle_state).toBe('PENDING');
    const failures: string[] = [];
    completed = await vi.waitFor(
      async () => {
        const shown = await show(api, `id=${created.body?.data.id}`).catch((error: unknown) => {
          failures.push(String(error));
          return undefined;
        });
        if (shown !== undefined && shown.status !== 200) failures.push(`HTTP ${shown.status} ${shown.text}`);
        // A failed show ends the wait, and fails the check below.
        if (failures.length === 0) expect(shown?.body?.data.life_cycle_state).not.toBe('PENDING');
        return shown?.body?.data;
      },
      { timeout: 30_000, interval: 250 },
    );
    expect(failures, 'show answered other than 200').toEqual([]);
    expect(completed).toMatchObject({
      life_cycle_state: 'COMPLETED',
      id: created.body?.data.id,
      number: created.body?.data.number,
      process_immediately: 1,
      reference_number: expect.any(String),
      sequence_number: expect.any(String),
      executed_date: expect.stringMatching(CRM_DATE),
      error_code: null,
    });
    expect(seedShapeProblems(completed, false)).toEqual([]);
  });

  it('keeps its data across a restart on the same data folder', async () => {
    if (service) expect(await stopService(service)).toBe(0);
    service = await startService(port, dataDir);

    const firstAgain = await show(api, `id=${first.id}`);
    expect(firstAgain.status).toBe(200);
    // It may have been processed meanwhile; what it was created as is unchanged.
    expect(firstAgain.body?.data).toMatchObject({
      id: first.id,
      number: first.number,
      scheduled_date: first.scheduled_date,
      parameters_set: first.parameters_set,
    });
    expect(firstAgain.body?.data.log_information.created_date).toBe(
      (first.log_information as Record<string, unknown>).created_date,
    );

    const completedAgain = await show(api, `number=${completed.number}`);
    expect(completedAgain.body?.data).toEqual(completed);
  });

  it('goes on numbering after the restart', async () => {
    const response = await postJson(api, ROUTES.clearPin, CURL_BODY, { 'Content-Type': 'application/json' });
    expect(response.status).toBe(200);
    expect(Number(response.body?.data.number)).toBeGreaterThan(Number(completed.number));
  });
});

describe('HEADEND_PROTOCOL=nagra-cag npm start', () => {
  it('runs the pipeline on the CAG simulator: the README’s curl ends COMPLETED with the CAG command id', async () => {
    if (service) expect(await stopService(service)).toBe(0);
    const cagData = mkdtempSync(join(tmpdir(), 'clear-pin-e2e-cag-'));
    service = await startService(port, cagData, { HEADEND_PROTOCOL: 'nagra-cag' });
    try {
      expect(service.output()).toMatch(/headend\s+\S+\s+simulator, nagra-cag/);
      const created = await createImmediately();
      expect(created.status).toBe(200);
      const done = await vi.waitFor(
        async () => {
          const shown = await show(api, `id=${created.body?.data.id}`);
          expect(shown.body?.data.life_cycle_state).toBe('COMPLETED');
          return shown.body?.data;
        },
        { timeout: 30_000, interval: 250 },
      );
      const reply = JSON.parse(done.response) as { commandResults: { id: string }[] };
      expect(done.reference_number).toBe(reply.commandResults[0]?.id);
      expect(JSON.parse(done.request).path).toMatch(/^\/cag\/v1\/.+\/devices\/smrt200000\/pin$/);
    } finally {
      rmSync(cagData, { recursive: true, force: true });
    }
  });
});

/** The README's list examples (API section), verbatim after the host. */
const README_LISTS = [
  `${ROUTES.list}?token=${DEMO_TOKEN}&life_cycle_state=PENDING`,
  `${ROUTES.list}?token=${DEMO_TOKEN}&subscription_identifier=number=S60507`,
  `${ROUTES.list}?token=${DEMO_TOKEN}&smartcard_identifier=serial_number=smrt20000054&number_of_results=5&fields_set=number,life_cycle_state,scheduled_date`,
];

describe('EVENTS_WEBHOOK_URL=… npm start: the README’s list, cancel and events', () => {
  let webhook: WebhookReceiver;
  let headendUrl: string;
  const json = { 'Content-Type': 'application/json' };
  const body = JSON.parse(CURL_BODY) as Record<string, unknown>;
  const waitFinal = (id: string) =>
    vi.waitFor(
      async () => {
        const shown = await show(api, `id=${id}`);
        expect(shown.body?.data.life_cycle_state).not.toBe('PENDING');
        return shown.body?.data;
      },
      { timeout: 30_000, interval: 250 },
    );
  const headendCalls = async () =>
    ((await (await fetch(`${headendUrl}/admin/stats`)).json()) as { calls: number }).calls;

  beforeAll(async () => {
    if (service) expect(await stopService(service)).toBe(0);
    webhook = await startWebhookReceiver();
    const eventsData = mkdtempSync(join(tmpdir(), 'clear-pin-e2e-events-'));
    service = await startService(port, eventsData, { EVENTS_WEBHOOK_URL: webhook.url });
    headendUrl = /headend\s+(\S+)\s+simulator/.exec(service.output())?.[1] ?? '';
  });

  afterAll(async () => {
    await webhook?.stop();
  });

  it('says in its banner where events go', () => {
    expect(service?.output()).toMatch(new RegExp(`events\\s+POSTed to ${webhook.url}`));
  });

  it('answers the README’s list examples: by state, by subscription, by smartcard', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const pending = await postJson(api, ROUTES.clearPin, { ...body, scheduled_date: '2099-01-01' }, json);
    expect(pending.body?.status.code).toBe('INVALID_DATE');
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const scheduled = await postJson(api, ROUTES.clearPin, { ...body, scheduled_date: tomorrow }, json);
    expect(scheduled.status).toBe(200);
    for (const path of README_LISTS) {
      expect(readme).toContain(`http://127.0.0.1:3000${path}`);
      const listed = await get(
        api,
        path.slice(0, path.indexOf('?')),
        Object.fromEntries(new URL(path, api.apiUrl).searchParams),
      );
      expect(listed.status, path).toBe(200);
      expect(
        listed.body?.data.map((r: { number: string }) => r.number),
        path,
      ).toContain(scheduled.body?.data.number);
    }
  });

  it('cancels a scheduled request, which then never reaches the headend, and POSTs one event per final state', async () => {
    const inSeconds = new Date(Date.now() + 4_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const scheduled = await postJson(api, ROUTES.clearPin, { ...body, scheduled_date: inSeconds }, json);
    const cancelled = await postJson(
      api,
      ROUTES.cancel,
      { token: DEMO_TOKEN, provisioning_request_identifier: { number: scheduled.body?.data.number } },
      json,
    );
    expect(cancelled.body?.data).toMatchObject({ life_cycle_state: 'REJECTED', error_code: 'CANCELLED' });
    const completed = await postJson(api, ROUTES.clearPin, { ...body, process_immediately: true }, json);
    const unknown = await postJson(
      api,
      ROUTES.clearPin,
      {
        ...body,
        subscription_identifier: { number: 'S60509' },
        smartcard_identifier: { serial_number: 'smrt20000099' },
        process_immediately: true,
      },
      json,
    );
    expect((await waitFinal(completed.body?.data.id)).life_cycle_state).toBe('COMPLETED');
    expect((await waitFinal(unknown.body?.data.id)).error_code).toBe('UNKNOWN_SMARTCARD');
    const calls = await headendCalls();
    // Past the cancelled one's scheduled time and a few processing runs (every 2 s): still no call for it.
    await sleep(Math.max(0, Date.parse(inSeconds) - Date.now()) + 5_000);
    expect(await headendCalls()).toBe(calls);
    expect((await show(api, `id=${scheduled.body?.data.id}`)).body?.data.error_code).toBe('CANCELLED');

    const events = await vi.waitFor(
      () => {
        const byRequest = webhook.acceptedByRequest();
        for (const reply of [cancelled, completed, unknown]) expect(byRequest.get(reply.body?.data.id)).toBeDefined();
        return byRequest;
      },
      { timeout: 20_000, interval: 250 },
    );
    expect(events.get(cancelled.body?.data.id)?.map((e) => [e['detail-type'], e.detail.error_code])).toEqual([
      ['Provisioning Request Rejected', 'CANCELLED'],
    ]);
    expect(events.get(completed.body?.data.id)?.map((e) => e['detail-type'])).toEqual([
      'Provisioning Request Completed',
    ]);
    expect(events.get(unknown.body?.data.id)?.map((e) => e.detail.error_code)).toEqual(['UNKNOWN_SMARTCARD']);
    expect(events.get(completed.body?.data.id)?.[0]).toMatchObject({
      source: 'clear-pin.local',
      detail: { organisation: 'CRMDEMO' },
    });
  });
});
