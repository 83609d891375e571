import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARDS } from '../demo.ts';
import { type Api, call, createClearPin, type Reply, ROUTES, tokenIn } from '../http.ts';
import { CRM_ID } from '../oracle.ts';
import { storedRequests } from '../requests.ts';
import { useLocalStack } from '../stack.ts';
import { createInput, loginInput, showInput } from './arbitraries.ts';
import {
  type BodyInput,
  type Expectation,
  expectCreate,
  expectLogin,
  expectShow,
  judge,
  type ShowInput,
} from './expectations.ts';

/** Runs fuzz inputs against the API over HTTP and judges every reply by the oracle of expectations.ts. */

const sendBody = (api: Api, path: string, input: BodyInput) => {
  const headers: Record<string, string> = {};
  if (input.contentType !== undefined) headers['content-type'] = input.contentType;
  if (input.idempotencyKey !== undefined) headers['idempotency-key'] = input.idempotencyKey;
  return call(api, path, { method: 'POST', body: input.body, headers });
};

const sendShow = (api: Api, input: ShowInput) =>
  call(api, `${ROUTES.show}${input.query === '' ? '' : `?${input.query}`}`);

type FuzzStats = { inputs: number; byStatus: Record<string, number> };

const newFuzzStats = (): FuzzStats => ({ inputs: 0, byStatus: {} });

const count = (stats: FuzzStats, reply: Reply) => {
  stats.inputs += 1;
  const key = `${reply.status} ${reply.body?.status.code ?? '?'}`;
  stats.byStatus[key] = (stats.byStatus[key] ?? 0) + 1;
};

/** The generator reached each of `outcomes` (status and code), so the oracle was exercised on each. */
const expectReached = (stats: FuzzStats, outcomes: string[]) => {
  const seen = Object.keys(stats.byStatus).join(' ');
  for (const outcome of outcomes) expect(seen).toContain(outcome);
};

type RouteFuzz<I> = {
  arbitrary: fc.Arbitrary<I>;
  send: (input: I) => Promise<Reply>;
  expect: (input: I) => Expectation;
  /** Called with every reply that is 200. */
  onOk?: (reply: Reply) => void;
};

/** Inputs sent at once: one property run of fast-check. */
const BATCH = 8;

/**
 * Runs `runs` inputs of one route through fast-check, BATCH at a time concurrently, failing with the first batch
 * that holds a wrong reply; counts every reply in `stats`.
 */
const fuzzRoute = async <I>(options: RouteFuzz<I> & { stats: FuzzStats; runs: number; seed: number }) => {
  await fc.assert(
    fc.asyncProperty(fc.array(options.arbitrary, { minLength: BATCH, maxLength: BATCH }), async (inputs) => {
      const replies = await Promise.all(inputs.map((input) => options.send(input)));
      const failures: string[] = [];
      replies.forEach((reply, i) => {
        count(options.stats, reply);
        if (reply.status === 200) options.onOk?.(reply);
        const problems = judge(reply, options.expect(inputs[i] as I));
        if (problems.length > 0) {
          failures.push(
            `${problems.join('; ')}\n  input: ${JSON.stringify(inputs[i]).slice(0, 600)}\n  reply: ${reply.text.slice(0, 300)}`,
          );
        }
      });
      if (failures.length > 0) throw new Error(failures.join('\n'));
    }),
    { seed: options.seed, numRuns: Math.ceil(options.runs / BATCH), endOnFailure: false },
  );
};

/**
 * The fuzz suite of SPEC §2.5 over a fresh API-only local stack: `runs` inputs per route (create, login, show)
 * from `seed`, then the table is checked to hold exactly the requests answered 200. Used by the npm-test run
 * (test/fuzz) and the longer soak run (test/soak).
 */
export const defineFuzzSuite = ({ runs: RUNS, seed: SEED }: { runs: number; seed: number }) => {
  const stack = useLocalStack({ processing: false, env: { POWERTOOLS_LOG_LEVEL: 'CRITICAL' } });
  const known = { ids: [] as string[], numbers: [] as string[] };
  const created = new Set<string>();
  const stats: Record<'create' | 'login' | 'show', FuzzStats> = {
    create: newFuzzStats(),
    login: newFuzzStats(),
    show: newFuzzStats(),
  };
  // Each route has a seed of its own, so its inputs do not depend on what the other routes drew.
  const seedOffset = { create: 0, login: 1, show: 2 };
  const fuzz = <I>(route: keyof typeof stats, options: RouteFuzz<I>) =>
    fuzzRoute({ ...options, stats: stats[route], runs: RUNS, seed: SEED + seedOffset[route] });

  beforeAll(async () => {
    for (const card of CARDS) {
      const reply = await createClearPin(stack(), card);
      expect(reply.status).toBe(200);
      const data = reply.body?.data as { id: string; number: string };
      known.ids.push(data.id);
      known.numbers.push(data.number);
      created.add(data.id);
    }
  });

  afterAll(() => {
    console.info(`fuzz summary (seed ${SEED}, ${RUNS} per route): ${JSON.stringify(stats)}`);
  });

  describe(`fuzzing the API (${RUNS} inputs per route, seed ${SEED})`, () => {
    it('answers every create body with the envelope and its catalogue status, and 200 only for a valid one', async () => {
      await fuzz('create', {
        arbitrary: createInput,
        send: (input) => sendBody(stack(), ROUTES.clearPin, input),
        expect: expectCreate,
        onOk: (reply) => {
          const data = reply.body?.data as { id: string; number: string; life_cycle_state: string; type: string };
          expect(data.id).toMatch(CRM_ID);
          expect(data.number).toMatch(/^[1-9]\d*$/);
          expect(data.life_cycle_state).toBe('PENDING');
          expect(data.type).toBe('CLEAR_CA_PIN');
          created.add(data.id);
        },
      });
      expectReached(stats.create, [
        '200 OK',
        '401 INVALID_TOKEN',
        '400 UNKNOWN_PARAMETER',
        '400 INVALID_REQUEST',
        '413',
        '415',
      ]);
    });

    it('answers every login body with the envelope: 200, 400, 401 or 429 only', async () => {
      await fuzz('login', {
        arbitrary: loginInput,
        send: (input) => sendBody(stack(), ROUTES.login, input),
        expect: expectLogin,
        onOk: (reply) => expect(tokenIn(reply)).toMatch(CRM_ID),
      });
      // The demo user is locked out after its fifth wrong password, early in the run: 429 from then on.
      expectReached(stats.login, ['401 INVALID_CREDENTIALS', '429 TOO_MANY_ATTEMPTS', '400 UNKNOWN_PARAMETER']);
    });

    it('answers every show query with the envelope: the request, or a 4xx of the catalogue', async () => {
      await fuzz('show', {
        arbitrary: showInput(known),
        send: (input) => sendShow(stack(), input),
        expect: (input) => expectShow(stack().apiUrl, input, known),
      });
      expectReached(stats.show, [
        '200 OK',
        '401 INVALID_TOKEN',
        '404 PROVISIONING_REQUEST_NOT_FOUND',
        '400 UNKNOWN_PARAMETER',
      ]);
    });

    it('left no request in the table that was not answered 200', async () => {
      const stored = [...(await storedRequests(stack())).keys()].sort();
      expect(stored).toEqual([...created].sort());
      expect(stats.create.inputs + stats.login.inputs + stats.show.inputs).toBeGreaterThanOrEqual(3 * RUNS);
    });
  });
};
