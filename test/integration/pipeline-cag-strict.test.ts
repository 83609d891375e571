import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../helpers/capture.ts';
import { CARDS, KNOWN_CARD, UNKNOWN_CARD } from '../helpers/demo.ts';
import { createRequest } from '../helpers/http.ts';
import { storedRequests, waitForState } from '../helpers/requests.ts';
import { useExternalCagStack } from '../helpers/stack.ts';
import { startStrictCag } from '../helpers/strict-cag.ts';

/**
 * The whole pipeline against a CAG server written apart from the project's simulator (test/helpers/strict-cag.ts:
 * SPEC §4.2 and Keycloak's documented behaviour, rotating refresh tokens, settings unlike the simulator's defaults),
 * so that the adapter is not only checked against the simulator written with it. Tokens live 2 s, refresh tokens 5 s.
 */
const SETTINGS = {
  realm: 'operators',
  clientId: 'crm-provisioning',
  username: 'svc-crm-provisioning',
  password: `cag-${Math.random().toString(36).slice(2)}-secret`,
  casInstanceName: 'cas-dth-1',
  tenantId: 'tenant-7f3a',
  operator: 'OPX',
};
const ACCESS_SECONDS = 2;
const REFRESH_SECONDS = 5;

const output = captureOutput();
const cag = await startStrictCag({
  ...SETTINGS,
  accessTokenSeconds: ACCESS_SECONDS,
  refreshTokenSeconds: REFRESH_SECONDS,
  devices: CARDS.filter((card) => card.headendKnows).map((card) => card.caId),
});

const stack = useExternalCagStack(cag, SETTINGS);

afterAll(() => output.restore());

describe('the pipeline against a CAG server written apart from the simulator', () => {
  it('completes a clear-PIN with the first command’s _id as reference_number, every header as CAG wants it', async () => {
    const created = await createRequest(stack(), KNOWN_CARD, { process_immediately: true });
    const done = await waitForState(stack(), created.id, 'COMPLETED', 20_000);
    const reply = JSON.parse(done.response as string) as { commandResults: { _id: string }[] };
    expect(reply.commandResults).toHaveLength(2);
    expect(done.reference_number).toBe(reply.commandResults[0]?._id);
    expect(cag.resets.get(KNOWN_CARD.caId)).toBe(1);
    expect(cag.protocolErrors).toEqual([]);
  });

  it('rejects an unknown device as UNKNOWN_SMARTCARD', async () => {
    const created = await createRequest(stack(), UNKNOWN_CARD, { process_immediately: true });
    const done = await waitForState(stack(), created.id, 'REJECTED', 20_000);
    expect(done.error_code).toBe('UNKNOWN_SMARTCARD');
  });

  it('keeps working as tokens expire and refresh tokens rotate, without a refused grant', async () => {
    const before = { ...cag.grants };
    for (const wait of [ACCESS_SECONDS, ACCESS_SECONDS, REFRESH_SECONDS].map((s) => s * 1000 + 500)) {
      await sleep(wait);
      const burst = await Promise.all(
        Array.from({ length: 5 }, () => createRequest(stack(), KNOWN_CARD, { process_immediately: true })),
      );
      await Promise.all(burst.map((created) => waitForState(stack(), created.id, 'COMPLETED', 20_000)));
    }
    expect(cag.grants.refresh, 'renewed by refresh grant while the refresh token lived').toBeGreaterThan(
      before.refresh,
    );
    expect(cag.grants.password, 'a new password grant once it had expired').toBeGreaterThan(before.password);
    expect(cag.grants.refused, 'no grant sent with a used or expired refresh token, or wrong credentials').toBe(0);
    expect(cag.protocolErrors).toEqual([]);
  }, 90_000);

  it('keeps every token and the operator password out of the table and the logs', async () => {
    expect(cag.issued.length).toBeGreaterThan(4);
    const stored = JSON.stringify([...(await storedRequests(stack())).values()]);
    const logged = output.text();
    expect(logged.length).toBeGreaterThan(0);
    for (const token of cag.issued) {
      expect(stored).not.toContain(token);
      expect(logged).not.toContain(token);
    }
    expect(stored).not.toContain(SETTINGS.password);
    expect(logged).not.toContain(SETTINGS.password);
  });
});
