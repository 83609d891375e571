/**
 * Validation cost: `parseClearPinBody` (the zod schema plus the date rules) per create body, in µs, over many
 * iterations after a warm-up, for the seed body, a body using every optional field, and a refused body. Each
 * body gets the same time, so a slow one does not stretch the run.
 */
import { parseClearPinBody } from '../../functions/domain/clear-pin-body.ts';
import { startProgress } from '../../infra/tools/progress.ts';
import { emitResult } from '../lib/child.ts';
import { SEED_BODY } from '../lib/demo.ts';
import { median, round } from '../lib/stats.ts';

const ROUND_MS = Number(process.env.BENCH_PARSE_ROUND_MS ?? 200);
const ROUNDS = 5;
const options = { timeZone: 'UTC', now: new Date() };

const bodies = {
  seed_body: SEED_BODY,
  all_fields: {
    ...SEED_BODY,
    process_immediately: 'true',
    scheduled_date: '2026-12-24T18:30:00',
    priority: 'EXPRESS',
  },
  // A typo'd field: the error path builds and classifies zod issues, which costs more than a pass.
  refused: { ...SEED_BODY, process_immediatelly: true },
};

const parseOnce = (body: unknown): void => {
  try {
    parseClearPinBody(body, options);
  } catch {
    // The refused body throws the catalogue error by design.
  }
};

/** Parses `body` for about `ms` milliseconds; answers how many parses that was and how long they took. */
const parseFor = (body: unknown, ms: number): { count: number; elapsedMs: number } => {
  const started = performance.now();
  let count = 0;
  let elapsedMs = 0;
  while (elapsedMs < ms) {
    for (let i = 0; i < 100; i++) parseOnce(body);
    count += 100;
    elapsedMs = performance.now() - started;
  }
  return { count, elapsedMs };
};

/** µs per parse: the median of several timed rounds, so one GC pause or scheduler hiccup does not decide. */
const measure = (body: unknown, onRound: () => void): { us: number; parses: number } => {
  parseFor(body, ROUND_MS); // warm-up: let V8 optimise the parser before timing it
  onRound();
  const rounds = Array.from({ length: ROUNDS }, () => {
    const timed = parseFor(body, ROUND_MS);
    onRound();
    return timed;
  });
  return {
    us: median(rounds.map((r) => (r.elapsedMs * 1000) / r.count)),
    parses: rounds.reduce((sum, r) => sum + r.count, 0),
  };
};

// The parses run synchronously, so the line moves at each round's end, not with the clock.
const line = startProgress('validation', Object.keys(bodies).length * (ROUNDS + 1), `rounds of ${ROUND_MS} ms`);
let roundsDone = 0;
const result: Record<string, number> = {};
for (const [name, body] of Object.entries(bodies)) {
  const { us, parses } = measure(body, () => line.update(++roundsDone, `parseClearPinBody: ${name}`));
  result[`${name}_us`] = round(us, 2);
  result[`${name}_parses`] = parses;
}
line.stop();
emitResult(result);
