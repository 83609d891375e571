import { describe, expect, it } from 'vitest';
import { CRM_FIELDS, dueShardOf, firstDueAt, toCrmView } from '../../functions/domain/provisioning-request.ts';
import { jsonType, SEED_DATA, seedRequest, seedShapeProblems } from '../helpers/seed.ts';

describe('the CRM.COM view of a request', () => {
  it('is exactly the seed example for the seed request', () => {
    expect(toCrmView(seedRequest(), 'UTC')).toEqual(SEED_DATA);
  });

  it('has exactly the seed’s keys, in the seed’s order', () => {
    expect(Object.keys(toCrmView(seedRequest(), 'UTC'))).toEqual(Object.keys(SEED_DATA));
    expect(Object.keys(toCrmView(seedRequest(), 'UTC').log_information)).toEqual(
      Object.keys(SEED_DATA.log_information),
    );
  });

  it('passes the seed-shape check used by the API tests', () => {
    expect(seedShapeProblems(toCrmView(seedRequest(), 'UTC'))).toEqual([]);
  });

  it('shows no internal field (attempts, ids of the subscription and item, claim)', () => {
    const text = JSON.stringify(toCrmView(seedRequest({ attempts: 3 }), 'UTC'));
    expect(text).not.toContain('attempts');
    expect(text).not.toContain('F5D3986886C979E7ECAB2E7C63684311');
    expect(text).not.toContain('DAAEF64FDDCF3BF558D1BC34B8B1CB62');
  });

  it('writes process_immediately as 1 or 0', () => {
    expect(toCrmView(seedRequest({ processImmediately: true }), 'UTC').process_immediately).toBe(1);
    expect(toCrmView(seedRequest({ processImmediately: false }), 'UTC').process_immediately).toBe(0);
  });

  it('writes its dates in the operator zone', () => {
    const view = toCrmView(seedRequest({ scheduledAt: '2026-07-01T09:00:00.000Z' }), 'Europe/Nicosia');
    expect(view.scheduled_date).toBe('2026-07-01T12:00:00');
    expect(view.log_information.created_date).toBe('2015-09-07T20:56:11');
  });

  it('shows a completed request with the headend’s outcome, keeping the seed’s keys and types', () => {
    const view = toCrmView(
      seedRequest({
        lifeCycleState: 'COMPLETED',
        executedAt: '2026-03-10T12:00:05.000Z',
        updatedAt: '2026-03-10T12:00:05.000Z',
        referenceNumber: 'REF1',
        sequenceNumber: '7',
        processId: 'RUN1',
        request: '{"command":"CLEAR_PIN"}',
        response: '{"result":"ACCEPTED"}',
      }),
      'UTC',
    );
    expect(view).toMatchObject({
      life_cycle_state: 'COMPLETED',
      executed_date: '2026-03-10T12:00:05',
      reference_number: 'REF1',
      sequence_number: '7',
      process_id: 'RUN1',
      request: '{"command":"CLEAR_PIN"}',
      response: '{"result":"ACCEPTED"}',
      error_code: null,
      error_description: null,
    });
    expect(view.log_information.updated_date).toBe('2026-03-10T12:00:05');
    expect(seedShapeProblems(view, false)).toEqual([]);
    for (const key of ['executed_date', 'reference_number', 'sequence_number', 'process_id'] as const) {
      expect(jsonType(view[key])).toBe('string');
    }
  });

  it('shows a rejected request with the headend’s error', () => {
    const view = toCrmView(
      seedRequest({ lifeCycleState: 'REJECTED', errorCode: 'UNKNOWN_SMARTCARD', errorDescription: 'Unknown card.' }),
      'UTC',
    );
    expect(view).toMatchObject({
      life_cycle_state: 'REJECTED',
      error_code: 'UNKNOWN_SMARTCARD',
      error_description: 'Unknown card.',
    });
  });

  it('offers fields_set exactly the seed’s fields', () => {
    expect([...CRM_FIELDS].sort()).toEqual(Object.keys(SEED_DATA).sort());
  });
});

describe('when the processing run first looks at a new request', () => {
  const now = new Date('2026-03-10T12:00:00Z');

  it('a scheduled request: at its scheduled date', () => {
    expect(firstDueAt({ processImmediately: false, scheduledAt: '2026-03-11T08:00:00.000Z' }, now, 60_000)).toEqual(
      new Date('2026-03-11T08:00:00Z'),
    );
  });

  it('a request scheduled in the past: now', () => {
    expect(firstDueAt({ processImmediately: false, scheduledAt: '2015-09-07T17:56:11.000Z' }, now, 60_000)).toEqual(
      now,
    );
  });

  it('a process-immediately request: after the grace period, in case its queue message was lost', () => {
    expect(firstDueAt({ processImmediately: true, scheduledAt: now.toISOString() }, now, 60_000)).toEqual(
      new Date('2026-03-10T12:01:00Z'),
    );
  });
});

describe('due-index shards', () => {
  it('put EXPRESS and REGULAR in separate partitions, spread over the shards', () => {
    const shards = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const id = i.toString(16).toUpperCase().padStart(8, '0') + '0'.repeat(24);
      const shard = dueShardOf(id, 'EXPRESS', 4);
      expect(shard).toMatch(/^EXPRESS#[0-3]$/);
      shards.add(shard);
    }
    expect(shards.size).toBe(4);
    expect(dueShardOf('D62E639909C64F648AF480C66BF59FF9', 'REGULAR', 4)).toMatch(/^REGULAR#[0-3]$/);
  });

  it('are stable for a given id', () => {
    const id = 'D62E639909C64F648AF480C66BF59FF9';
    expect(dueShardOf(id, 'REGULAR', 4)).toBe(dueShardOf(id, 'REGULAR', 4));
  });
});
