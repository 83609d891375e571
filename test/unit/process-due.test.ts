import { setImmediate as yieldTurn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DueEntry, DueIndex, WorkQueue } from '../../functions/use-cases/ports.ts';
import { type ProcessDueDependencies, processDue } from '../../functions/use-cases/process-due.ts';
import { recordingTelemetry } from '../helpers/telemetry.ts';

/**
 * The processing run against an in-memory due index that behaves like the DynamoDB one: a query per shard,
 * `dueAt <= now`, ascending, paged with an exclusive start position, and a conditional "hand on" write.
 */
type Row = { id: string; shard: string; dueAt?: string; state: 'PENDING' | 'COMPLETED' };
type Position = { dueAt: string; id: string };

const NOW = new Date('2026-03-01T12:00:00.000Z');
const WINDOW_MS = 30_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();
const after = (a: Position, b: Position) => a.dueAt > b.dueAt || (a.dueAt === b.dueAt && a.id > b.id);

class MemoryDueIndex implements DueIndex {
  readonly rows = new Map<string, Row>();
  queries = 0;
  /** Called on every query (to advance a fake clock). */
  onQuery: () => void = () => undefined;

  add(id: string, shard: string, dueAt: string, state: Row['state'] = 'PENDING') {
    this.rows.set(id, { id, shard, dueAt: state === 'PENDING' ? dueAt : undefined, state });
  }

  async findDue(shard: string, now: Date, limit: number, start?: unknown) {
    this.queries += 1;
    this.onQuery();
    await yieldTurn();
    const matching = [...this.rows.values()]
      .filter((r): r is Row & { dueAt: string } => r.shard === shard && r.dueAt !== undefined)
      .filter((r) => r.dueAt <= now.toISOString())
      .filter((r) => start === undefined || after(r, start as Position))
      .sort((a, b) => (after(a, b) ? 1 : -1));
    const page = matching.slice(0, limit);
    const last = page[page.length - 1];
    return {
      entries: page.map((r) => ({ id: r.id, dueAt: r.dueAt })),
      next: page.length === limit && last ? ({ dueAt: last.dueAt, id: last.id } satisfies Position) : undefined,
    };
  }

  async markDispatched(entry: DueEntry, nextDueAt: Date) {
    await yieldTurn();
    const row = this.rows.get(entry.id);
    if (row?.state !== 'PENDING' || row.dueAt !== entry.dueAt) return false;
    row.dueAt = nextDueAt.toISOString();
    return true;
  }
}

/** A work queue that records what it was sent, in order, and can lose sends. */
class RecordingQueue implements WorkQueue {
  readonly sent: string[] = [];
  failing = new Set<string>();
  async send(ids: string[]) {
    await yieldTurn();
    const failed = ids.filter((id) => this.failing.has(id));
    this.sent.push(...ids.filter((id) => !this.failing.has(id)));
    return { failed };
  }
}

let store: MemoryDueIndex;
let queue: RecordingQueue;
let clock: Date;

const deps = (overrides: Partial<ProcessDueDependencies> = {}): ProcessDueDependencies => ({
  ...recordingTelemetry(),
  due: store,
  queue,
  now: () => clock,
  dueShards: 2,
  dispatchWindowMs: WINDOW_MS,
  pageSize: 100,
  ...overrides,
});

beforeEach(() => {
  store = new MemoryDueIndex();
  queue = new RecordingQueue();
  clock = NOW;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('processDue', () => {
  it('hands on exactly the PENDING requests that are due, not future or final ones', async () => {
    store.add('due-now', 'REGULAR#0', at(0));
    store.add('overdue', 'REGULAR#1', at(-3_600_000));
    store.add('tomorrow', 'REGULAR#0', at(86_400_000));
    store.add('done', 'REGULAR#1', at(-1_000), 'COMPLETED');

    const result = await processDue(deps(), { budgetMs: 10_000 });

    expect(queue.sent.sort()).toEqual(['due-now', 'overdue']);
    expect(result).toMatchObject({ dispatched: 2, sendFailures: 0, outOfTime: false, oldestDueAgeSeconds: 3_600 });
  });

  it('hands on every due EXPRESS request before any REGULAR one, oldest first within a shard', async () => {
    store.add('R-old', 'REGULAR#0', at(-50_000));
    store.add('R-new', 'REGULAR#0', at(-10_000));
    store.add('R-other', 'REGULAR#1', at(-40_000));
    store.add('E-new', 'EXPRESS#1', at(-1_000));
    store.add('E-old', 'EXPRESS#1', at(-20_000));
    store.add('E-zero', 'EXPRESS#0', at(-5_000));

    await processDue(deps({ pageSize: 1 }), { budgetMs: 10_000 });

    expect(queue.sent).toHaveLength(6);
    expect(queue.sent.slice(0, 3).sort()).toEqual(['E-new', 'E-old', 'E-zero']);
    expect(queue.sent.indexOf('E-old')).toBeLessThan(queue.sent.indexOf('E-new'));
    expect(queue.sent.indexOf('R-old')).toBeLessThan(queue.sent.indexOf('R-new'));
  });

  it('pages through a large backlog and hands each request on once', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `req-${String(i).padStart(2, '0')}`);
    for (const [i, id] of ids.entries()) store.add(id, `REGULAR#${i % 2}`, at(-i * 1_000));

    const result = await processDue(deps({ pageSize: 4 }), { budgetMs: 10_000 });

    expect(result.dispatched).toBe(ids.length);
    expect([...queue.sent].sort()).toEqual(ids);
    expect(store.queries).toBeGreaterThan(6);
  });

  it('moves a handed-on request one dispatch window ahead: not again before then, again after it', async () => {
    store.add('a', 'EXPRESS#0', at(-1_000));

    await processDue(deps(), { budgetMs: 10_000 });
    expect(store.rows.get('a')?.dueAt).toBe(at(WINDOW_MS));
    await processDue(deps(), { budgetMs: 10_000 });
    expect(queue.sent).toEqual(['a']);

    // The worker never took it (a lost message, a crashed worker): the run hands it on again.
    clock = new Date(NOW.getTime() + WINDOW_MS);
    await processDue(deps(), { budgetMs: 10_000 });
    expect(queue.sent).toEqual(['a', 'a']);
  });

  it('overlapping runs hand each request on once between them', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `req-${i}`);
    for (const [i, id] of ids.entries()) store.add(id, `${i % 3 ? 'REGULAR' : 'EXPRESS'}#${i % 2}`, at(-i));

    const results = await Promise.all(
      Array.from({ length: 4 }, () => processDue(deps({ pageSize: 3 }), { budgetMs: 10_000 })),
    );

    expect(queue.sent).toHaveLength(ids.length);
    expect(new Set(queue.sent).size).toBe(ids.length);
    expect(results.reduce((sum, r) => sum + r.dispatched, 0)).toBe(ids.length);
  });

  it('a failed queue send is counted, and the request is handed on again after the window', async () => {
    store.add('lost', 'REGULAR#0', at(-1_000));
    store.add('fine', 'REGULAR#1', at(-1_000));
    queue.failing.add('lost');

    const first = await processDue(deps(), { budgetMs: 10_000 });
    expect(first).toMatchObject({ dispatched: 1, sendFailures: 1 });
    expect(queue.sent).toEqual(['fine']);

    queue.failing.clear();
    clock = new Date(NOW.getTime() + WINDOW_MS);
    await processDue(deps(), { budgetMs: 10_000 });
    expect(queue.sent).toContain('lost');
  });

  it('hands on no more than its dispatch limit, EXPRESS first; the next run takes the rest', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `req-${String(i).padStart(2, '0')}`);
    for (const [i, id] of ids.entries()) store.add(id, `${i < 3 ? 'EXPRESS' : 'REGULAR'}#${i % 2}`, at(-100 + i));

    const first = await processDue(deps({ pageSize: 4, dispatchLimit: 5 }), { budgetMs: 10_000 });

    expect(first).toMatchObject({ dispatched: 5, atLimit: true });
    expect(queue.sent.slice(0, 3).sort()).toEqual(['req-00', 'req-01', 'req-02']);
    const second = await processDue(deps({ pageSize: 4, dispatchLimit: 5 }), { budgetMs: 10_000 });
    const third = await processDue(deps({ pageSize: 4, dispatchLimit: 5 }), { budgetMs: 10_000 });
    expect([second.dispatched, third.dispatched]).toEqual([5, 2]);
    expect([...queue.sent].sort()).toEqual(ids);
  });

  it('fills its dispatch limit from REGULAR shards when no EXPRESS request is due', async () => {
    for (let i = 0; i < 250; i++) store.add(`r-${i}`, `REGULAR#${i % 4}`, at(-i));

    const result = await processDue(deps({ dueShards: 4, pageSize: 100, dispatchLimit: 200 }), { budgetMs: 10_000 });

    expect(result).toMatchObject({ dispatched: 200, atLimit: true });
    // The oldest are handed on first.
    expect(queue.sent).toContain('r-249');
    expect(queue.sent).not.toContain('r-0');
  });

  it('stops when its time budget is spent and the next run carries on, losing nothing', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const ids = Array.from({ length: 12 }, (_, i) => `req-${String(i).padStart(2, '0')}`);
    for (const [i, id] of ids.entries()) store.add(id, `${i < 6 ? 'EXPRESS' : 'REGULAR'}#0`, at(-100 + i));
    // Every query of the index takes 100 ms of the budget.
    store.onQuery = () => vi.setSystemTime(Date.now() + 100);

    const first = await processDue(deps({ dueShards: 1, pageSize: 2 }), { budgetMs: 250 });

    expect(first.outOfTime).toBe(true);
    expect(queue.sent.length).toBeGreaterThan(0);
    expect(queue.sent.length).toBeLessThan(ids.length);
    expect(queue.sent.every((id) => ids.indexOf(id) < 6)).toBe(true); // EXPRESS first

    store.onQuery = () => undefined;
    const second = await processDue(deps({ dueShards: 1, pageSize: 2 }), { budgetMs: 10_000 });
    expect(second.outOfTime).toBe(false);
    expect([...queue.sent].sort()).toEqual(ids);
  });
});
