import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_LOGIN, DEMO_TOKEN } from '../helpers/demo.ts';
import { type Api, postJson, ROUTES, show } from '../helpers/http.ts';
import { CRM_DATE } from '../helpers/oracle.ts';
import { seedShapeProblems } from '../helpers/seed.ts';

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
    const created = await postJson(
      api,
      ROUTES.clearPin,
      { ...JSON.parse(CURL_BODY), process_immediately: true },
      { 'Content-Type': 'application/json' },
    );
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
      const created = await postJson(
        api,
        ROUTES.clearPin,
        { ...JSON.parse(CURL_BODY), process_immediately: true },
        { 'Content-Type': 'application/json' },
      );
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
