import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FaultGate, type HeadendFaults, parseFaults } from './faults.ts';
import { digest, type Protocol, parseJsonObject, readBody, reply, sameSecret } from './http.ts';

/** One command of a PIN reset, as the CAS behind the gateway answers it. */
export type CagCommandAnswer = {
  /** `overwriteParentalPinCode` unless given. */
  commandName?: string;
  responseCode: string;
  responseText: string;
};

export type CagDeviceAnswer = {
  /** The commands a PIN reset of the device runs, in order; one `overwriteParentalPinCode` answered OK by default. */
  commands?: CagCommandAnswer[];
  /** The name of each command's identifier: `id` by default, `_id` as some CAG versions answer. */
  idField?: 'id' | '_id';
};

/** How the gateway refuses a call: HTTP 401, HTTP 403, or HTTP 200 with `"resultCode": "99999:403"`. */
export type CagRefusal = 401 | 403 | '99999:403';

export type CagSimulatorSettings = {
  /** The Keycloak realm; the token endpoint is `/realms/{realm}/protocol/openid-connect/token`. */
  realm: string;
  clientId: string;
  /** The operator account of the password grant. */
  username: string;
  password: string;
  casInstanceName: string;
  /** The values the `nv-tenant-id` and `operator` headers must carry. */
  tenantId: string;
  operator: string;
  /** Lifetimes of the tokens issued (Keycloak's defaults: 300 s and 1800 s). */
  accessTokenSeconds: number;
  refreshTokenSeconds: number;
};

export type CagSimulatorOptions = Partial<CagSimulatorSettings> & {
  /** Devices known besides the known cards, with their answers. */
  devices?: Record<string, CagDeviceAnswer>;
  /** Faults of the token endpoint (those of the PIN call are the simulator's `faults`). */
  tokenFaults?: HeadendFaults;
  /** The clock tokens expire by; inject to share a test clock with the adapter. */
  now?: () => number;
  /** Makes access and refresh tokens; inject to recognise them in tests. */
  newToken?: () => string;
};

/** The local stack's CAG account and headers; never deployed. */
export const DEFAULT_CAG_SETTINGS: Readonly<CagSimulatorSettings> = {
  realm: 'local',
  clientId: 'cag-client',
  username: 'local-cag-user',
  password: 'local-cag-password',
  casInstanceName: 'local-cas',
  tenantId: 'local-tenant',
  operator: 'LOCALOP',
  accessTokenSeconds: 300,
  refreshTokenSeconds: 1800,
};

export interface CagSimulatorControls {
  setTokenFaults(faults: HeadendFaults): void;
  /** Makes the device known, its PIN resets answered with `answer`; undefined makes it unknown (404). */
  setDevice(deviceId: string, answer: CagDeviceAnswer | undefined): void;
  /** The next `count` PIN calls are refused as `as` says, whatever their token. */
  refuseNext(count: number, as: CagRefusal): void;
  /** Ends every session, as an administrator's logout would: no access or refresh token issued so far works. */
  revokeTokens(): void;
  /** PIN calls received for the device, faulted and refused ones included. */
  callsFor(deviceId: string): number;
  /** PIN resets the device went through: calls that got as far as running its commands. */
  executionsFor(deviceId: string): number;
  /** Token requests received, by grant type, refused ones included. */
  tokenRequests(): { password: number; refresh: number };
}

const PIN_PATH = /^\/cag\/v1\/([^/]+)\/devices\/([^/]+)\/pin$/;
const DEVICE_ADMIN_PATH = /^\/admin\/devices\/([^/]+)$/;
const ADMIN_PATHS = new Set(['/admin/token-faults', '/admin/refuse-next', '/admin/revoke-tokens']);
const MANDATORY_HEADERS = ['nv-tenant-id', 'operator', 'x-correlation-id'] as const;
const DEFAULT_COMMAND: CagCommandAnswer = { responseCode: '0', responseText: 'OK' };
// OAuth 2.0 (RFC 6749 §5.1): token replies must not be cached.
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

type TokenKind = 'access' | 'refresh';

/**
 * SPEC §4.2: a Keycloak-style token endpoint (password and refresh grants, expiring opaque tokens) and the CAG
 * `PUT /cag/v1/{casInstanceName}/devices/{deviceId}/pin` call, which checks the bearer token (401), the mandatory
 * headers (400 naming the missing one), the tenant and operator (403 with `"resultCode": "99999:403"`: the token is
 * not entitled to them), the CAS instance and the device (404). `gates` play the faults of each endpoint. Tokens
 * outlive `reset()` (Keycloak is a service of its own); `revokeTokens()` ends them.
 */
export function createCagProtocol(
  options: CagSimulatorOptions,
  knownCards: readonly string[],
  gates: { pin: FaultGate; token: FaultGate },
): Protocol & { keycloakPath: string; controls: CagSimulatorControls } {
  const settings = resolveSettings(options);
  const now = options.now ?? Date.now;
  const newToken = options.newToken ?? (() => randomBytes(32).toString('base64url'));
  const keycloakPath = `/realms/${encodeURIComponent(settings.realm)}/protocol/openid-connect/token`;
  const usernameDigest = digest(settings.username);
  const passwordDigest = digest(settings.password);
  const initialDevices = (): Map<string, CagDeviceAnswer> =>
    new Map([
      ...knownCards.map((card): [string, CagDeviceAnswer] => [card, {}]),
      ...Object.entries(options.devices ?? {}),
    ]);

  let devices = initialDevices();
  // Keyed by the token's digest, so that looking a token up compares no secret.
  const tokens = new Map<string, { kind: TokenKind; expiresAt: number }>();
  const calls = new Map<string, number>();
  const executions = new Map<string, number>();
  let grants = { password: 0, refresh: 0 };
  let refusals: { count: number; as: CagRefusal } = { count: 0, as: 401 };

  function issueTokens(): Record<string, unknown> {
    const at = now();
    for (const [key, entry] of tokens) if (entry.expiresAt <= at) tokens.delete(key);
    const access = newToken();
    const refresh = newToken();
    tokens.set(tokenKey(access), { kind: 'access', expiresAt: at + settings.accessTokenSeconds * 1000 });
    tokens.set(tokenKey(refresh), { kind: 'refresh', expiresAt: at + settings.refreshTokenSeconds * 1000 });
    return {
      access_token: access,
      expires_in: settings.accessTokenSeconds,
      refresh_expires_in: settings.refreshTokenSeconds,
      refresh_token: refresh,
      token_type: 'Bearer',
      'not-before-policy': 0,
      scope: 'profile email',
    };
  }

  function live(token: string | undefined | null, kind: TokenKind): boolean {
    const entry = token ? tokens.get(tokenKey(token)) : undefined;
    return entry !== undefined && entry.kind === kind && now() < entry.expiresAt;
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const admitted = await gates.token.admit(req, res);
    if (admitted === undefined) return;
    if (admitted.body === undefined) return oauthError(res, 400, 'invalid_request', 'Body too large.');
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      return oauthError(res, 400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.');
    }
    const form = new URLSearchParams(admitted.body);
    const grantType = form.get('grant_type');
    if (grantType === 'password') grants.password += 1;
    if (grantType === 'refresh_token') grants.refresh += 1;
    if (!grantType) return oauthError(res, 400, 'invalid_request', 'Missing form parameter: grant_type');
    if (form.get('client_id') !== settings.clientId) {
      return oauthError(res, 401, 'invalid_client', 'Invalid client or Invalid client credentials');
    }
    if (grantType === 'password') {
      // Both checked, so that the answer takes as long for a wrong username as for a wrong password.
      const knownUser = sameSecret(form.get('username') ?? '', usernameDigest);
      const rightPassword = sameSecret(form.get('password') ?? '', passwordDigest);
      if (!(knownUser && rightPassword)) return oauthError(res, 401, 'invalid_grant', 'Invalid user credentials');
      return reply(res, 200, issueTokens(), NO_STORE);
    }
    if (grantType === 'refresh_token') {
      if (!live(form.get('refresh_token'), 'refresh')) {
        return oauthError(res, 400, 'invalid_grant', 'Token is not active');
      }
      return reply(res, 200, issueTokens(), NO_STORE);
    }
    return oauthError(res, 400, 'unsupported_grant_type', 'Unsupported grant_type');
  }

  async function handlePin(
    req: IncomingMessage,
    res: ServerResponse,
    casInstance: string,
    deviceId: string,
  ): Promise<void> {
    calls.set(deviceId, (calls.get(deviceId) ?? 0) + 1);
    const admitted = await gates.pin.admit(req, res);
    if (admitted === undefined) return;
    if (refusals.count > 0) {
      refusals.count -= 1;
      return refuse(res, refusals.as);
    }
    if (!live(bearerToken(req.headers.authorization), 'access')) {
      return reply(res, 401, failure('99999:401', 'The access token is missing, unknown or expired.'));
    }
    for (const header of MANDATORY_HEADERS) {
      const value = req.headers[header];
      if (typeof value !== 'string' || value.trim() === '') {
        return reply(res, 400, failure('99999:400', `Missing mandatory header ${header}.`));
      }
    }
    if (req.headers['nv-tenant-id'] !== settings.tenantId || req.headers.operator !== settings.operator) {
      return reply(res, 403, failure('99999:403', 'The token is not entitled to this tenant and operator.'));
    }
    if (casInstance !== settings.casInstanceName) {
      return reply(res, 404, failure('99999:404', `Unknown CAS instance ${casInstance}.`));
    }
    const device = devices.get(deviceId);
    if (device === undefined) return reply(res, 404, failure('99999:404', `Device ${deviceId} not found.`));
    executions.set(deviceId, (executions.get(deviceId) ?? 0) + 1);
    return reply(res, 200, pinResetAnswer(device));
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const device = decoded(DEVICE_ADMIN_PATH.exec(path)?.[1]);
    if (path === '/admin/token-faults' && req.method === 'GET') return reply(res, 200, gates.token.faults());
    if (path === '/admin/token-faults' && req.method === 'PUT') {
      const parsed = await parsedBody(req, parseFaults);
      if (typeof parsed === 'string') return badRequest(res, parsed);
      gates.token.setFaults(parsed);
      return reply(res, 200, gates.token.faults());
    }
    if (device !== undefined && req.method === 'PUT') {
      const parsed = await parsedBody(req, parseDeviceAnswer);
      if (typeof parsed === 'string') return badRequest(res, parsed);
      devices.set(device, parsed);
      return reply(res, 200, parsed);
    }
    if (device !== undefined && req.method === 'DELETE') {
      devices.delete(device);
      res.writeHead(204).end();
      return;
    }
    if (path === '/admin/refuse-next' && req.method === 'POST') {
      const parsed = await parsedBody(req, parseRefusals);
      if (typeof parsed === 'string') return badRequest(res, parsed);
      refusals = parsed;
      return reply(res, 200, { ...refusals });
    }
    if (path === '/admin/revoke-tokens' && req.method === 'POST') {
      tokens.clear();
      res.writeHead(204).end();
      return;
    }
    return reply(res, 404, { result: 'NOT_FOUND' });
  }

  function total(counts: Map<string, number>): number {
    let sum = 0;
    for (const count of counts.values()) sum += count;
    return sum;
  }

  return {
    route(req, res, path) {
      if (path === keycloakPath) {
        if (req.method !== 'POST') return Promise.resolve(oauthError(res, 405, 'invalid_request', 'Use POST.'));
        return handleToken(req, res);
      }
      const pin = PIN_PATH.exec(path);
      if (pin !== null) {
        if (req.method !== 'PUT') return Promise.resolve(reply(res, 405, failure('99999:405', 'Use PUT.')));
        const casInstance = decoded(pin[1]);
        const deviceId = decoded(pin[2]);
        if (casInstance === undefined || deviceId === undefined) {
          return Promise.resolve(reply(res, 400, failure('99999:400', 'Malformed path.')));
        }
        return handlePin(req, res, casInstance, deviceId);
      }
      if (ADMIN_PATHS.has(path) || DEVICE_ADMIN_PATH.test(path)) return handleAdmin(req, res, path);
      return undefined;
    },
    stats: () => ({
      calls: gates.pin.calls(),
      maxInFlight: gates.pin.maxInFlight(),
      executions: total(executions),
      tokenRequests: { ...grants },
      devices: Object.fromEntries(
        [...calls.keys()].map((id) => [id, { calls: calls.get(id) ?? 0, executions: executions.get(id) ?? 0 }]),
      ),
    }),
    reset() {
      gates.token.reset();
      devices = initialDevices();
      calls.clear();
      executions.clear();
      grants = { password: 0, refresh: 0 };
      refusals = { count: 0, as: 401 };
    },
    keycloakPath,
    controls: {
      setTokenFaults: (faults) => gates.token.setFaults(faults),
      setDevice(deviceId, answer) {
        if (answer === undefined) devices.delete(deviceId);
        else devices.set(deviceId, answer);
      },
      refuseNext(count, as) {
        refusals = { count, as };
      },
      revokeTokens: () => tokens.clear(),
      callsFor: (deviceId) => calls.get(deviceId) ?? 0,
      executionsFor: (deviceId) => executions.get(deviceId) ?? 0,
      tokenRequests: () => ({ ...grants }),
    },
  };
}

/** A path segment decoded, or undefined when it is not valid percent-encoding. */
function decoded(segment: string | undefined): string | undefined {
  try {
    return segment === undefined ? undefined : decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function tokenKey(token: string): string {
  return digest(token).toString('hex');
}

function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer[ \t]+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

function failure(resultCode: string, resultText: string): Record<string, unknown> {
  return { status: 'Failure', resultCode, resultText };
}

function refuse(res: ServerResponse, as: CagRefusal): void {
  if (as === 401) reply(res, 401, failure('99999:401', 'Unauthorized.'));
  else reply(res, as === 403 ? 403 : 200, failure('99999:403', 'Forbidden.'));
}

function pinResetAnswer(device: CagDeviceAnswer): Record<string, unknown> {
  const commands = device.commands ?? [DEFAULT_COMMAND];
  const idField = device.idField ?? 'id';
  return {
    status: commands.every((command) => command.responseText === 'OK') ? 'Success' : 'Failure',
    commandCount: commands.length,
    commandResults: commands.map((command) => ({
      commandName: command.commandName ?? 'overwriteParentalPinCode',
      // Shaped like the MongoDB ids some CAG versions answer as `_id`.
      [idField]: randomBytes(12).toString('hex'),
      responseCode: command.responseCode,
      responseText: command.responseText,
    })),
  };
}

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  reply(res, status, { error, error_description: description }, NO_STORE);
}

function badRequest(res: ServerResponse, description: string): void {
  reply(res, 400, { result: 'BAD_REQUEST', error_description: description });
}

async function parsedBody<T>(req: IncomingMessage, parse: (raw: string) => T | string): Promise<T | string> {
  const raw = await readBody(req);
  return raw === undefined ? 'Body too large.' : parse(raw);
}

/** The answer, or a description of what is wrong with the body. */
function parseDeviceAnswer(raw: string): CagDeviceAnswer | string {
  const body = parseJsonObject(raw);
  if (body === undefined) return 'The body is not a JSON object.';
  const unknown = Object.keys(body).find((key) => key !== 'commands' && key !== 'idField');
  if (unknown !== undefined) return `Unknown field ${unknown}.`;
  if (body.idField !== undefined && body.idField !== 'id' && body.idField !== '_id') {
    return 'idField must be id or _id.';
  }
  const { commands } = body;
  if (commands === undefined) return body as CagDeviceAnswer;
  const valid =
    Array.isArray(commands) &&
    commands.length > 0 &&
    commands.every((command: unknown) => {
      const fields = typeof command === 'object' && command !== null ? (command as Record<string, unknown>) : {};
      return (
        typeof fields.responseCode === 'string' &&
        typeof fields.responseText === 'string' &&
        (fields.commandName === undefined || typeof fields.commandName === 'string')
      );
    });
  if (!valid) return 'commands must be a non-empty list of {responseCode, responseText, commandName?} strings.';
  return body as CagDeviceAnswer;
}

/** The refusals, or a description of what is wrong with the body. */
function parseRefusals(raw: string): { count: number; as: CagRefusal } | string {
  const body = parseJsonObject(raw);
  if (body === undefined) return 'The body is not a JSON object.';
  const { count, as } = body;
  if (!(typeof count === 'number' && Number.isInteger(count) && count >= 0)) {
    return 'count must be an integer, 0 or more.';
  }
  if (as !== 401 && as !== 403 && as !== '99999:403') return 'as must be 401, 403 or "99999:403".';
  return { count, as };
}

function resolveSettings(options: CagSimulatorOptions): CagSimulatorSettings {
  const defaults = DEFAULT_CAG_SETTINGS;
  return {
    realm: options.realm ?? defaults.realm,
    clientId: options.clientId ?? defaults.clientId,
    username: options.username ?? defaults.username,
    password: options.password ?? defaults.password,
    casInstanceName: options.casInstanceName ?? defaults.casInstanceName,
    tenantId: options.tenantId ?? defaults.tenantId,
    operator: options.operator ?? defaults.operator,
    accessTokenSeconds: options.accessTokenSeconds ?? defaults.accessTokenSeconds,
    refreshTokenSeconds: options.refreshTokenSeconds ?? defaults.refreshTokenSeconds,
  };
}
