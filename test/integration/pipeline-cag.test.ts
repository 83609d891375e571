import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CAG_SETTINGS, startHeadendSimulator } from '../../infra/local/headend-simulator.ts';
import { captureOutput } from '../helpers/capture.ts';
import { CARDS, KNOWN_CARD, UNKNOWN_CARD } from '../helpers/demo.ts';
import { createRequest } from '../helpers/http.ts';
import { storedRequests, waitForState } from '../helpers/requests.ts';
import { useExternalCagStack } from '../helpers/stack.ts';

/**
 * The whole pipeline against a CAG server the local stack did not start (SPEC §5: `HEADEND_URL` and the
 * `HEADEND_CAG_*` settings name an external headend): the CAG simulator, run apart, with tokens that expire within
 * seconds and its mandatory headers enforced. Requests end as SPEC §4.2 maps CAG's answers; no access token reaches
 * a stored field or a log line.
 */
const issued: string[] = [];
const FAILING = CARDS.find((card) => card.headendKnows && card !== KNOWN_CARD);
if (!FAILING) throw new Error('the demo data needs a second card the headend knows');

const output = captureOutput();
const cag = await startHeadendSimulator({
  protocol: 'nagra-cag',
  knownCards: CARDS.filter((card) => card.headendKnows).map((card) => card.caId),
  accessTokenSeconds: 2,
  refreshTokenSeconds: 4,
  // One card's resets fail with a code the stage does not list as transient: REJECTED CAG_<code>.
  devices: { [FAILING.caId]: { commands: [{ responseCode: '70012', responseText: 'Device is not paired' }] } },
  newToken: () => {
    const token = `cag-token-${issued.length}-${Math.random().toString(36).slice(2)}`;
    issued.push(token);
    return token;
  },
});

const stack = useExternalCagStack(cag, DEFAULT_CAG_SETTINGS);

afterAll(() => output.restore());

describe('the pipeline on the Nagra CAG protocol, against an external CAG server', () => {
  it('starts no simulator of its own and sends the worker to the external one', () => {
    expect(stack().headend).toBeUndefined();
    expect(stack().headendUrl).toBe(cag.url);
    expect(stack().headendProtocol).toBe('nagra-cag');
  });

  it('completes a clear-PIN with the CAG command id as reference_number, and stores the call without a token', async () => {
    const created = await createRequest(stack(), KNOWN_CARD, { process_immediately: true });
    const done = await waitForState(stack(), created.id, 'COMPLETED', 20_000);

    const reply = JSON.parse(done.response as string) as { commandResults: { id: string }[] };
    expect(done.reference_number).toBe(reply.commandResults[0]?.id);
    expect(JSON.parse(done.request as string)).toEqual({
      method: 'PUT',
      path: `/cag/v1/${DEFAULT_CAG_SETTINGS.casInstanceName}/devices/${KNOWN_CARD.caId}/pin`,
      headers: {
        'nv-tenant-id': DEFAULT_CAG_SETTINGS.tenantId,
        operator: DEFAULT_CAG_SETTINGS.operator,
        'x-correlation-id': created.id,
      },
    });
    expect(cag.callsFor(KNOWN_CARD.caId)).toBe(1);
  });

  it('maps CAG’s answers as SPEC §4.2 says: 404 → UNKNOWN_SMARTCARD, a failed command → CAG_<code>', async () => {
    const unknown = await createRequest(stack(), UNKNOWN_CARD, { process_immediately: true });
    const failing = await createRequest(stack(), FAILING, { process_immediately: true });

    const notFound = await waitForState(stack(), unknown.id, 'REJECTED', 20_000);
    expect(notFound.error_code).toBe('UNKNOWN_SMARTCARD');
    const refused = await waitForState(stack(), failing.id, 'REJECTED', 20_000);
    expect(refused).toMatchObject({ error_code: 'CAG_70012', error_description: 'Device is not paired' });
  });

  it('renews its tokens as they expire within seconds, and resends once after a refusal in a 200', async () => {
    const before = cag.tokenRequests();
    for (let round = 0; round < 3; round += 1) {
      // Past the access token's life, and in the last round past the refresh token's too.
      await sleep(round === 2 ? 4_500 : 2_500);
      if (round === 1) cag.refuseNext(1, '99999:403');
      const created = await createRequest(stack(), KNOWN_CARD, { process_immediately: true });
      await waitForState(stack(), created.id, 'COMPLETED', 20_000);
    }
    const after = cag.tokenRequests();
    expect(after.refresh, 'renewed with the refresh grant while the refresh token lived').toBeGreaterThan(
      before.refresh,
    );
    expect(after.password, 'a new password grant once the refresh token had expired').toBeGreaterThan(before.password);
  }, 60_000);

  it('keeps every access and refresh token out of the table and the logs', async () => {
    expect(issued.length).toBeGreaterThan(2);
    const stored = JSON.stringify([...(await storedRequests(stack())).values()]);
    const logged = output.text();
    expect(logged.length).toBeGreaterThan(0);
    for (const token of issued) {
      expect(stored).not.toContain(token);
      expect(logged).not.toContain(token);
    }
    expect(logged).not.toContain(DEFAULT_CAG_SETTINGS.password);
  });
});
