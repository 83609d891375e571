import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HEADEND_SECRET } from '../../infra/local/headend-simulator.ts';
import { DEMO_LOGIN, DEMO_TOKEN, KNOWN_CARD, seedBody } from '../helpers/demo.ts';
import { call, login, ROUTES, show } from '../helpers/http.ts';
import { envelopeProblems, LEAK_PATTERN } from '../helpers/oracle.ts';
import { useLocalStack } from '../helpers/stack.ts';

/**
 * The edges a hostile client pushes on: body size limits (16 KiB in the handler, 10 MB at the gateway/front),
 * no stack trace or source path in any answer, prototype names in queries and headers, unparseable request
 * targets, and secrets compared in constant time (the headend simulator's bearer check and password verification
 * refuse wrong secrets of equal and of different length; no `===` compares a secret in the source).
 */
const stack = useLocalStack({ processing: false, env: { POWERTOOLS_LOG_LEVEL: 'CRITICAL' } });

const ROOT = join(import.meta.dirname, '..', '..');
const KIB = 1024;

const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  call(stack(), path, { method: 'POST', body, headers });

/** A valid create body padded with spaces to exactly `bytes` bytes. */
const createOfSize = (bytes: number) => {
  const text = JSON.stringify(seedBody());
  return text + ' '.repeat(bytes - Buffer.byteLength(text));
};

/** Sends raw bytes on a socket and answers what came back (for requests fetch refuses to make). */
const raw = (request: string) =>
  new Promise<string>((resolve, reject) => {
    const url = new URL(stack().apiUrl);
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(request);
  });

describe('body size limits', () => {
  it('takes a body of exactly 16 KiB and refuses one byte more with 413 PAYLOAD_TOO_LARGE', async () => {
    expect((await post(ROUTES.clearPin, createOfSize(16 * KIB))).status).toBe(200);
    const over = await post(ROUTES.clearPin, createOfSize(16 * KIB + 1));
    expect(over.status).toBe(413);
    expect(over.body?.status.code).toBe('PAYLOAD_TOO_LARGE');
    expect(envelopeProblems(over)).toEqual([]);
  });

  it('counts bytes, not characters', async () => {
    const body = JSON.stringify({ token: DEMO_TOKEN, x: 'é'.repeat(8 * KIB) }); // 16 KiB of characters, 24 of bytes
    const reply = await post(ROUTES.clearPin, body);
    expect(reply.status).toBe(413);
  });

  it('refuses a 5 MB body in the handler and an 11 MB one at the front, both in the envelope', async () => {
    for (const size of [5 * KIB * KIB, 11 * KIB * KIB]) {
      const reply = await post(ROUTES.login, ' '.repeat(size));
      expect(reply.status).toBe(413);
      expect(reply.body?.status.code).toBe('PAYLOAD_TOO_LARGE');
      expect(envelopeProblems(reply)).toEqual([]);
    }
    // The front is still serving.
    expect((await login(stack())).status).toBe(200);
  });
});

describe('answers carry no stack trace and no source path', () => {
  it.each([
    ['an unknown route', '/nope/../../etc/passwd', { method: 'GET' }],
    ['a wrong method', ROUTES.clearPin, { method: 'PUT', body: '{}' }],
    [
      'a body that is not JSON',
      ROUTES.clearPin,
      { method: 'POST', body: '{"token":', headers: { 'content-type': 'application/json' } },
    ],
    [
      'a body that is JSON null',
      ROUTES.login,
      { method: 'POST', body: 'null', headers: { 'content-type': 'application/json' } },
    ],
    [
      'a huge number',
      ROUTES.clearPin,
      { method: 'POST', body: '{"token":1e999999}', headers: { 'content-type': 'application/json' } },
    ],
    ['XML', ROUTES.login, { method: 'POST', body: '<a/>', headers: { 'content-type': 'application/xml' } }],
    [
      'a deep array',
      ROUTES.login,
      {
        method: 'POST',
        body: `${'['.repeat(8000)}${']'.repeat(8000)}`,
        headers: { 'content-type': 'application/json' },
      },
    ],
  ] as const)('for %s', async (_, path, options) => {
    const reply = await call(stack(), path, options);
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(envelopeProblems(reply)).toEqual([]);
    expect(reply.text).not.toMatch(LEAK_PATTERN);
  });
});

describe('prototype names and unparseable targets', () => {
  it('treats __proto__ and constructor in the query as unknown parameters (and keeps serving)', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const reply = await call(
        stack(),
        `${ROUTES.show}?token=${DEMO_TOKEN}&provisioning_request_identifier=number=1&${name}=1`,
      );
      expect(reply.status, name).toBe(400);
      expect(reply.body?.status.code).toBe('UNKNOWN_PARAMETER');
    }
    expect((await show(stack(), 'number=1')).status).toBe(200);
  });

  it('survives prototype names as header names', async () => {
    const reply = await call(stack(), ROUTES.login, {
      method: 'POST',
      body: JSON.stringify(DEMO_LOGIN),
      headers: { 'content-type': 'application/json', __proto__: 'x', constructor: 'y' } as Record<string, string>,
    });
    expect(reply.status).toBe(200);
  });

  it('answers an unparseable request target with the envelope instead of crashing the front', async () => {
    const answer = await raw('GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"INVALID_REQUEST"');
    expect((await show(stack(), 'number=1')).status).toBe(200);
  });
});

describe('secrets are compared in constant time', () => {
  const command = () =>
    JSON.stringify({
      command: 'CLEAR_PIN',
      transaction_id: randomUUID(),
      smartcard_ca_id: KNOWN_CARD.caId,
      priority: 'REGULAR',
    });
  const headend = (authorization: string | undefined) =>
    fetch(`${stack().headend.url}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      body: command(),
    }).then((r) => r.status);

  it('the headend refuses wrong secrets of equal and of different length, and takes the right one', async () => {
    const secret = DEFAULT_HEADEND_SECRET;
    for (const wrong of [
      `Bearer ${secret.slice(0, -1)}X`, // same length
      `Bearer ${secret.toUpperCase()}`, // same length
      `Bearer ${secret.slice(0, -1)}`, // shorter
      `Bearer ${secret}0`, // longer
      `Bearer ${secret}${secret}`,
      'Bearer ',
      secret, // no scheme
      `Basic ${secret}`,
      undefined,
    ]) {
      expect(await headend(wrong), String(wrong)).toBe(401);
    }
    expect(await headend(`Bearer ${secret}`)).toBe(200);
  });

  it('password verification refuses the demo password with one character changed, dropped or added', async () => {
    // Four wrong ones (the fifth failure would lock the user), then the right one.
    const right = DEMO_LOGIN.password;
    for (const password of [`${right.slice(0, -1)}5`, right.slice(0, -1), `${right}5`, `${right}\u0000`]) {
      const reply = await login(stack(), { password });
      expect(reply.status, JSON.stringify(password)).toBe(401);
      expect(reply.body?.status.code).toBe('INVALID_CREDENTIALS');
    }
    expect((await login(stack())).status).toBe(200);
  });

  it('the code compares secrets with timingSafeEqual and never with ===', () => {
    const files = [
      ...readdirSync(join(ROOT, 'functions'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(ROOT, 'functions', f)),
      join(ROOT, 'infra/local/headend-simulator.ts'),
      ...readdirSync(join(ROOT, 'infra/local/headend-simulator'))
        .filter((f) => f.endsWith('.ts'))
        .map((f) => join(ROOT, 'infra/local/headend-simulator', f)),
    ];
    const secretish = /secret|password|passwd|digest|bearer|authorization|token|hash/i;
    const literal = /^(?:'[^']*'|"[^"]*"|`[^`]*`|undefined|null|true|false|\d+|typeof\b.*)$/;
    /** Comparisons with `===`/`!==` of a secret-looking value against anything but a literal or a typeof. */
    const offencesIn = (source: string, name: string) => {
      const offences: string[] = [];
      source.split('\n').forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '');
        for (const m of code.matchAll(/([\w.$?'"`[\]()]+)\s*(?:===|!==|==|!=)\s*([\w.$?'"`[\]()]+)/g)) {
          const sides = [m[1] ?? '', m[2] ?? ''].map((side) => side.replace(/^\(+|\)+$/g, ''));
          if (!sides.some((side) => secretish.test(side))) continue;
          if (sides.some((side) => literal.test(side)) || /typeof\s+\S+\s*[!=]==/.test(code)) continue;
          offences.push(`${name}:${i + 1}: ${line.trim()}`);
        }
      });
      return offences;
    };
    // The detector catches what it is meant to catch.
    expect(
      offencesIn('if (given === expectedSecret) return true;\nreturn hash !== stored.hash;', 'sample'),
    ).toHaveLength(2);
    const offences = files.flatMap((file) => offencesIn(readFileSync(file, 'utf8'), relative(ROOT, file)));
    expect(offences).toEqual([]);
    const credentials = readFileSync(join(ROOT, 'functions/domain/credentials.ts'), 'utf8');
    expect(credentials).toMatch(/timingSafeEqual\(/);
    const simulator = readFileSync(join(ROOT, 'infra/local/headend-simulator/http.ts'), 'utf8');
    expect(simulator).toMatch(/timingSafeEqual\(digest\(/);
  });
});
