import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { CagSite } from '../../infra/local/local-stack.ts';
import { listenLocally } from './local-server.ts';

/**
 * A Nagra CAG server and its Keycloak, written apart from the project's simulator (infra/local/headend-simulator)
 * from SPEC §4.2 and Keycloak's documented behaviour only, so that a misreading the simulator and the adapter share
 * shows up here. Stricter than the simulator where Keycloak is: refresh tokens rotate (a used one is dead), the
 * token endpoint takes form bodies only, errors come in Keycloak's `{error, error_description}` shape, the command
 * takes no body, and replies carry `application/json;charset=UTF-8` and `_id`.
 */
export type StrictCagOptions = CagSite & {
  readonly realm: string;
  readonly accessTokenSeconds: number;
  readonly refreshTokenSeconds: number;
  /** CA ids of the devices it knows; any other is 404. */
  readonly devices: readonly string[];
};

export type StrictCag = {
  readonly url: string;
  readonly tokenUrl: string;
  /** Every access and refresh token it issued. */
  readonly issued: readonly string[];
  /** Grants served, by type, and grants refused. */
  readonly grants: { password: number; refresh: number; refused: number };
  /** PIN resets answered 200, by device. */
  readonly resets: ReadonlyMap<string, number>;
  /** Commands refused for a missing or wrong header or a body: the adapter broke the protocol. */
  readonly protocolErrors: string[];
  stop(): Promise<void>;
};

const json = (response: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
};

const readText = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const opaque = () => randomBytes(24).toString('base64url');

export const startStrictCag = async (options: StrictCagOptions): Promise<StrictCag> => {
  const tokenPath = `/realms/${options.realm}/protocol/openid-connect/token`;
  const pinPath = new RegExp(`^/cag/v1/${options.casInstanceName}/devices/([^/]+)/pin$`);
  const accessTokens = new Map<string, number>();
  const refreshTokens = new Map<string, number>();
  const issued: string[] = [];
  const grants = { password: 0, refresh: 0, refused: 0 };
  const resets = new Map<string, number>();
  const protocolErrors: string[] = [];

  const grant = (response: ServerResponse) => {
    const now = Date.now();
    const access = opaque();
    const refresh = opaque();
    accessTokens.set(access, now + options.accessTokenSeconds * 1000);
    refreshTokens.set(refresh, now + options.refreshTokenSeconds * 1000);
    issued.push(access, refresh);
    json(response, 200, {
      access_token: access,
      expires_in: options.accessTokenSeconds,
      refresh_expires_in: options.refreshTokenSeconds,
      refresh_token: refresh,
      token_type: 'Bearer',
      'not-before-policy': 0,
      session_state: opaque(),
      scope: 'profile email',
    });
  };

  const refuseGrant = (response: ServerResponse, status: number, error: string, description: string) => {
    grants.refused += 1;
    json(response, status, { error, error_description: description });
  };

  const token = async (request: IncomingMessage, response: ServerResponse) => {
    const text = await readText(request);
    if (!String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return refuseGrant(response, 400, 'invalid_request', 'Content-Type must be form-encoded');
    }
    const form = new URLSearchParams(text);
    if (form.get('client_id') !== options.clientId) {
      return refuseGrant(response, 401, 'invalid_client', 'Invalid client or Invalid client credentials');
    }
    if (form.get('grant_type') === 'password') {
      if (form.get('username') !== options.username || form.get('password') !== options.password) {
        return refuseGrant(response, 401, 'invalid_grant', 'Invalid user credentials');
      }
      grants.password += 1;
      return grant(response);
    }
    if (form.get('grant_type') === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const until = refreshTokens.get(presented);
      // Keycloak revokes a refresh token once used (refresh token rotation): each one serves once.
      refreshTokens.delete(presented);
      if (until === undefined || until <= Date.now()) {
        return refuseGrant(response, 400, 'invalid_grant', 'Token is not active');
      }
      grants.refresh += 1;
      return grant(response);
    }
    return refuseGrant(response, 400, 'unsupported_grant_type', 'Unsupported grant_type');
  };

  const pin = async (request: IncomingMessage, response: ServerResponse, deviceId: string) => {
    const body = await readText(request);
    const bearer = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))?.[1] ?? '';
    const until = accessTokens.get(bearer);
    if (until === undefined || until <= Date.now()) {
      return json(response, 401, { error: 'invalid_token', error_description: 'Token verification failed' });
    }
    const wrong = [
      request.headers['nv-tenant-id'] !== options.tenantId && 'nv-tenant-id',
      request.headers.operator !== options.operator && 'operator',
      !request.headers['x-correlation-id'] && 'x-correlation-id',
      body !== '' && 'a body',
    ].filter((problem): problem is string => problem !== false);
    if (wrong.length > 0) {
      protocolErrors.push(`${deviceId}: ${wrong.join(', ')}`);
      return json(response, 400, { status: 'Failure', errorMessage: `Bad request: ${wrong.join(', ')}` });
    }
    if (!options.devices.includes(deviceId)) {
      return json(response, 404, { status: 'Failure', errorMessage: `Device ${deviceId} not found` });
    }
    resets.set(deviceId, (resets.get(deviceId) ?? 0) + 1);
    return json(response, 200, {
      status: 'Success',
      commandCount: 2,
      commandResults: [
        { commandName: 'RESET_PIN', _id: randomBytes(12).toString('hex'), responseCode: '0', responseText: 'OK' },
        { commandName: 'DEVICE_UPDATE', _id: randomBytes(12).toString('hex'), responseCode: '0', responseText: 'OK' },
      ],
    });
  };

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://cag').pathname;
    const deviceId = pinPath.exec(path)?.[1];
    const answered =
      request.method === 'POST' && path === tokenPath
        ? token(request, response)
        : request.method === 'PUT' && deviceId !== undefined
          ? pin(request, response, decodeURIComponent(deviceId))
          : Promise.resolve(json(response, 404, { status: 'Failure', errorMessage: 'Not found' }));
    answered.catch(() => response.destroy());
  });
  const { endpoint, stop } = await listenLocally(server);
  return { url: endpoint, tokenUrl: `${endpoint}${tokenPath}`, issued, grants, resets, protocolErrors, stop };
};
