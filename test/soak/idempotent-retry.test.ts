import { describe, expect, it, vi } from 'vitest';
import { CARDS, type DemoCard } from '../helpers/demo.ts';
import { createClearPin, idIn, type Reply } from '../helpers/http.ts';
import { storedRequests } from '../helpers/requests.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * A client that follows SPEC §2.3/§2.5 to the letter: on 503 it retries the same body with the same
 * Idempotency-Key until it gets 200. DynamoDB is cut after each step of a create in turn; the retries go on until
 * DynamoDB answers again (a retry that meets a write still becoming visible is 409 IDEMPOTENCY_KEY_IN_PROGRESS). In
 * the end each key has exactly one request.
 */
const stack = useLocalStack({ faultProxies: true, processingIntervalMs: 3_600_000 });
const proxy = () => stack().dynamoProxy;
const cardOf = (step: number) => CARDS[step % CARDS.length] as DemoCard;

describe('retrying with the same Idempotency-Key after an outage', () => {
  it('ends with exactly one request per key, whichever step the outage hit', async () => {
    const before = new Set((await storedRequests(stack())).keys());
    const keys: string[] = [];
    const first: Reply[] = [];
    for (let step = 0; step <= 7; step++) {
      const key = `retry-${step}`;
      keys.push(key);
      proxy().cutAfterRequests(step);
      first.push(await createClearPin(stack(), cardOf(step), {}, { 'Idempotency-Key': key }));
      proxy().restore();
    }
    expect(first.some((r) => r.status === 503)).toBe(true);

    const answers = new Map<string, Reply>();
    const seen: Record<string, number> = {};
    await vi.waitFor(
      async () => {
        for (const [step, key] of keys.entries()) {
          if (answers.get(key)?.status === 200) continue;
          const reply = await createClearPin(stack(), cardOf(step), {}, { 'Idempotency-Key': key });
          const answer = `${reply.status} ${reply.body?.status.code}`;
          seen[answer] = (seen[answer] ?? 0) + 1;
          answers.set(key, reply);
        }
        expect(
          keys.filter((key) => answers.get(key)?.status !== 200),
          'keys not answered 200 yet',
        ).toEqual([]);
      },
      { timeout: 90_000, interval: 2_000 },
    );
    // Only "in progress" refusals on the way; no other answer.
    expect(Object.keys(seen).filter((k) => k !== '200 OK' && k !== '409 IDEMPOTENCY_KEY_IN_PROGRESS')).toEqual([]);

    const ids = keys.map((key) => idIn(answers.get(key)));
    expect(new Set(ids).size).toBe(keys.length);
    for (const [step, reply] of first.entries()) {
      if (reply.status === 200) expect(idIn(reply)).toBe(ids[step]);
    }
    const added = [...(await storedRequests(stack())).keys()].filter((id) => !before.has(id)).sort();
    expect(added).toEqual([...ids].sort());
    console.info(
      `idempotent retries: first answers ${first.map((r) => r.status).join(',')}; retries ${JSON.stringify(seen)}`,
    );
  });
});
