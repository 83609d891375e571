import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  apiClient,
  CLEAR_PIN_PATH,
  CRM_DATE,
  DEMO_TOKEN,
  SHOW_PATH,
  seedShapeProblems,
} from '../helpers/api-client.ts';

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
const startService = async (port: number, dataDir: string): Promise<Running> => {
  const child = spawn(process.execPath, ['infra/local/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), LOCAL_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
    // Up once the banner is printed (it comes last) and the API answers.
    const answers = output.includes('Demo token')
      ? await fetch(`http://127.0.0.1:${port}/`).then(
          () => true,
          () => false,
        )
      : false;
    if (answers) return { child, output: () => output };
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`npm start did not answer within 30 s:\n${output}`);
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

let port: number;
let dataDir: string;
let service: Running | undefined;
let api: ApiClient;

beforeAll(async () => {
  port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'clear-pin-e2e-'));
  service = await startService(port, dataDir);
  api = apiClient(`http://127.0.0.1:${port}`);
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
    expect(output).toContain('MPAdministrator');
  });

  it('prints the curl example of the README', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`-d '${CURL_BODY}'`);
    expect(service?.output()).toContain(`-d '${CURL_BODY}'`);
  });

  it('answers the README’s curl example with 200 and the seed’s fields', async () => {
    const response = await api.post(CLEAR_PIN_PATH, CURL_BODY, { 'Content-Type': 'application/json' });
    expect(response.status).toBe(200);
    expect(response.body.status).toEqual({ message: '', description: '', code: 'OK' });
    expect(seedShapeProblems(response.body.data)).toEqual([]);
    first = response.body.data;
  });

  it('takes a process_immediately request to COMPLETED through the queue, the worker and the headend', async () => {
    const created = await api.post(
      CLEAR_PIN_PATH,
      { ...JSON.parse(CURL_BODY), process_immediately: true },
      { 'Content-Type': 'application/json' },
    );
    expect(created.status).toBe(200);
    expect(created.body.data.life_cycle_state).toBe('PENDING');
    const deadline = Date.now() + 30_000;
    let state = 'PENDING';
    while (state === 'PENDING' && Date.now() < deadline) {
      await sleep(250);
      const shown = await api.get(SHOW_PATH, {
        token: DEMO_TOKEN,
        provisioning_request_identifier: `id=${created.body.data.id}`,
      });
      expect(shown.status).toBe(200);
      state = shown.body.data.life_cycle_state;
      completed = shown.body.data;
    }
    expect(completed).toMatchObject({
      life_cycle_state: 'COMPLETED',
      id: created.body.data.id,
      number: created.body.data.number,
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

    const firstAgain = await api.get(SHOW_PATH, {
      token: DEMO_TOKEN,
      provisioning_request_identifier: `id=${first.id}`,
    });
    expect(firstAgain.status).toBe(200);
    // It may have been processed meanwhile; what it was created as is unchanged.
    expect(firstAgain.body.data).toMatchObject({
      id: first.id,
      number: first.number,
      scheduled_date: first.scheduled_date,
      parameters_set: first.parameters_set,
    });
    expect(firstAgain.body.data.log_information.created_date).toBe(
      (first.log_information as Record<string, unknown>).created_date,
    );

    const completedAgain = await api.get(SHOW_PATH, {
      token: DEMO_TOKEN,
      provisioning_request_identifier: `number=${completed.number}`,
    });
    expect(completedAgain.body.data).toEqual(completed);
  });

  it('goes on numbering after the restart', async () => {
    const response = await api.post(CLEAR_PIN_PATH, CURL_BODY, { 'Content-Type': 'application/json' });
    expect(response.status).toBe(200);
    expect(Number(response.body.data.number)).toBeGreaterThan(Number(completed.number));
  });
});
