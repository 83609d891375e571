import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFaultGate, type FaultGate, type HeadendFaults, parseFaults } from './headend-simulator/faults.ts';
import { createGenericProtocol, type GenericSimulatorControls } from './headend-simulator/generic.ts';
import { type Protocol, readBody, reply } from './headend-simulator/http.ts';
import {
  type CagSimulatorControls,
  type CagSimulatorOptions,
  createCagProtocol,
  DEFAULT_CAG_SETTINGS,
} from './headend-simulator/nagra-cag.ts';

export type { HeadendFaults } from './headend-simulator/faults.ts';
export {
  type CagCommandAnswer,
  type CagDeviceAnswer,
  type CagRefusal,
  type CagSimulatorSettings,
  DEFAULT_CAG_SETTINGS,
} from './headend-simulator/nagra-cag.ts';

/**
 * The CA headend simulator (SPEC §4), for tests and the local stack: the `generic` protocol (`POST /commands`,
 * idempotent on `transaction_id`) or `nagra-cag` (a Keycloak-style token endpoint and the CAG PIN reset), with the
 * faults of §4.1 on the command endpoint. Admin endpoints, both protocols: `GET /admin/stats`,
 * `GET|PUT /admin/faults`, `POST /admin/reset`. CAG only: `GET|PUT /admin/token-faults`,
 * `PUT|DELETE /admin/devices/{deviceId}`, `POST /admin/refuse-next` (`{"count", "as": 401 | 403 | "99999:403"}`),
 * `POST /admin/revoke-tokens`.
 */

type CommonOptions = {
  port?: number;
  host?: string;
  /** Smartcard CA ids (CAG: device ids) the headend knows. */
  knownCards?: string[];
  /** Faults of the command endpoint (CAG: the PIN call). */
  faults?: HeadendFaults;
  /** Decides which calls fail under `failRate`; inject for deterministic tests. */
  random?: () => number;
};

export type HeadendSimulatorOptions = CommonOptions & { protocol?: 'generic'; secret?: string };

export type CagHeadendSimulatorOptions = CommonOptions & CagSimulatorOptions & { protocol: 'nagra-cag' };

interface SimulatorBase {
  /** The base URL: generic commands go to `${url}/commands`, CAG calls to `${url}/cag/v1/…`. */
  url: string;
  port: number;
  setFaults(faults: HeadendFaults): void;
  /** Command calls received (generic: `POST /commands`, CAG: the PIN call), faulted ones included. */
  callsReceived(): number;
  /** The most command calls open at the same time. */
  maxInFlight(): number;
  /** Forgets results and counters and restores the faults and answers given at start (CAG tokens stay valid). */
  reset(): void;
  stop(): Promise<void>;
}

export interface HeadendSimulator extends SimulatorBase, GenericSimulatorControls {}

export interface CagHeadendSimulator extends SimulatorBase, CagSimulatorControls {
  /** The Keycloak-style token endpoint, `${url}/realms/{realm}/protocol/openid-connect/token`. */
  tokenUrl: string;
}

export const DEFAULT_HEADEND_SECRET = 'local-headend-secret';
export const DEFAULT_KNOWN_CARDS: readonly string[] = ['smrt200000', 'smrt200001'];

export function startHeadendSimulator(options?: HeadendSimulatorOptions): Promise<HeadendSimulator>;
export function startHeadendSimulator(options: CagHeadendSimulatorOptions): Promise<CagHeadendSimulator>;
export function startHeadendSimulator(
  options: HeadendSimulatorOptions | CagHeadendSimulatorOptions,
): Promise<HeadendSimulator | CagHeadendSimulator>;
export async function startHeadendSimulator(
  options: HeadendSimulatorOptions | CagHeadendSimulatorOptions = {},
): Promise<HeadendSimulator | CagHeadendSimulator> {
  const random = options.random ?? Math.random;
  const knownCards = options.knownCards ?? DEFAULT_KNOWN_CARDS;
  // Aborts pending latency sleeps so stop() leaves no timers behind.
  const lifetime = new AbortController();
  const gate = createFaultGate(options.faults, random, lifetime.signal);
  if (options.protocol === 'nagra-cag') {
    const token = createFaultGate(options.tokenFaults, random, lifetime.signal);
    const cag = createCagProtocol(options, knownCards, { pin: gate, token });
    const base = await serve(cag, gate, lifetime, options);
    return { ...base, tokenUrl: `${base.url}${cag.keycloakPath}`, ...cag.controls };
  }
  const generic = createGenericProtocol({ secret: options.secret ?? DEFAULT_HEADEND_SECRET, knownCards }, gate);
  return { ...(await serve(generic, gate, lifetime, options)), ...generic.controls };
}

/** The HTTP server around one protocol: its endpoints first, then the admin endpoints both protocols share. */
async function serve(
  protocol: Protocol,
  gate: FaultGate,
  lifetime: AbortController,
  options: CommonOptions,
): Promise<SimulatorBase> {
  const host = options.host ?? '127.0.0.1';

  function reset(): void {
    gate.reset();
    protocol.reset();
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/admin/stats' && req.method === 'GET') return reply(res, 200, protocol.stats());
    if (path === '/admin/faults' && req.method === 'GET') return reply(res, 200, gate.faults());
    if (path === '/admin/faults' && req.method === 'PUT') {
      const raw = await readBody(req);
      const parsed = raw === undefined ? 'Body too large.' : parseFaults(raw);
      if (typeof parsed === 'string') return reply(res, 400, { result: 'BAD_REQUEST', error_description: parsed });
      gate.setFaults(parsed);
      return reply(res, 200, gate.faults());
    }
    if (path === '/admin/reset' && req.method === 'POST') {
      reset();
      res.writeHead(204).end();
      return;
    }
    return reply(res, 404, { result: 'NOT_FOUND' });
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://headend').pathname;
    const handled = protocol.route(req, res, path) ?? handleAdmin(req, res, path);
    handled.catch(() => {
      // The client went away mid-request; there is nobody left to answer.
      if (!res.headersSent && !res.destroyed) reply(res, 500, { result: 'INTERNAL_ERROR' });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    setFaults: (faults) => gate.setFaults(faults),
    callsReceived: () => gate.calls(),
    maxInFlight: () => gate.maxInFlight(),
    reset,
    stop() {
      lifetime.abort();
      return new Promise<void>((resolve) => {
        // close() alone would wait for hung (timeout-fault) and keep-alive connections.
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A positive number of seconds from the environment, or undefined when unset. */
function secondsFromEnv(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!(Number.isFinite(seconds) && seconds > 0)) throw new Error(`${name} must be a positive number of seconds`);
  return seconds;
}

if (import.meta.main) {
  const env = process.env;
  const protocol = env.HEADEND_PROTOCOL ?? 'generic';
  const common = {
    port: Number(env.HEADEND_PORT ?? 4010),
    knownCards: env.HEADEND_KNOWN_CARDS?.split(',')
      .map((card) => card.trim())
      .filter((card) => card !== ''),
  };
  let simulator: SimulatorBase;
  if (protocol === 'nagra-cag') {
    const defaults = DEFAULT_CAG_SETTINGS;
    const settings = {
      clientId: env.HEADEND_CAG_CLIENT_ID ?? defaults.clientId,
      username: env.HEADEND_CAG_USERNAME ?? defaults.username,
      password: env.HEADEND_CAG_PASSWORD ?? defaults.password,
      casInstanceName: env.HEADEND_CAG_CAS_INSTANCE ?? defaults.casInstanceName,
      tenantId: env.HEADEND_CAG_TENANT_ID ?? defaults.tenantId,
      operator: env.HEADEND_CAG_OPERATOR ?? defaults.operator,
    };
    const cag = await startHeadendSimulator({
      ...common,
      ...settings,
      protocol,
      accessTokenSeconds: secondsFromEnv('HEADEND_CAG_ACCESS_TOKEN_SECONDS'),
      refreshTokenSeconds: secondsFromEnv('HEADEND_CAG_REFRESH_TOKEN_SECONDS'),
    });
    console.log(`Headend simulator (nagra-cag) listening on ${cag.url}, token endpoint ${cag.tokenUrl}`);
    console.log(
      `CAS instance ${settings.casInstanceName}, tenant ${settings.tenantId}, operator ${settings.operator}, ` +
        `client ${settings.clientId}, user ${settings.username}`,
    );
    simulator = cag;
  } else if (protocol === 'generic') {
    simulator = await startHeadendSimulator({ ...common, secret: env.HEADEND_SECRET ?? DEFAULT_HEADEND_SECRET });
    console.log(`Headend simulator listening on ${simulator.url}`);
  } else {
    throw new Error(`HEADEND_PROTOCOL must be generic or nagra-cag, not ${protocol}`);
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void simulator.stop();
    });
  }
}
