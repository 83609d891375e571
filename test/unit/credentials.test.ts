import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  hashPassword,
  hashToken,
  isTokenFormat,
  isTokenLive,
  needsTouch,
  newToken,
  TOKEN_IDLE_MS,
  TOKEN_TOUCH_INTERVAL_MS,
  verifyPassword,
} from '../../functions/domain/credentials.ts';

const MINUTE = 60_000;

describe('passwords', () => {
  it('are stored as a salted scrypt hash that does not contain the password', async () => {
    const stored = await hashPassword('1234');
    expect(stored).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain('1234');
    const [, n] = stored.split('$');
    expect(Number(n)).toBeGreaterThanOrEqual(16_384);
  });

  it('get a new salt each time, so equal passwords do not give equal hashes', async () => {
    expect(await hashPassword('1234')).not.toBe(await hashPassword('1234'));
  });

  it('verify only with the right password', async () => {
    const stored = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct hors', stored)).toBe(false);
    expect(await verifyPassword('Correct horse', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('refuse every password for a user that does not exist', async () => {
    expect(await verifyPassword('', undefined)).toBe(false);
    expect(await verifyPassword('1234', undefined)).toBe(false);
  });

  it('refuse a stored value that is not a scrypt hash', async () => {
    expect(await verifyPassword('1234', '1234')).toBe(false);
    expect(await verifyPassword('1234', 'bcrypt$10$x$y$z$w')).toBe(false);
  });

  it('verify a hash made with other cost parameters (the cost can change later)', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const hash = scryptSync('1234', salt, 32, { N: 1024, r: 8, p: 1 });
    const stored = ['scrypt', 1024, 8, 1, salt.toString('base64'), hash.toString('base64')].join('$');
    expect(await verifyPassword('1234', stored)).toBe(true);
    expect(await verifyPassword('12345', stored)).toBe(false);
  });
});

describe('tokens', () => {
  it('are 32 uppercase hex characters, never repeated', () => {
    const tokens = Array.from({ length: 1000 }, newToken);
    for (const token of tokens) expect(token).toMatch(/^[0-9A-F]{32}$/);
    expect(new Set(tokens).size).toBe(1000);
  });

  it('are stored as a SHA-256 that does not contain the token', () => {
    const token = 'A7AD3752AC7B48099A80E62C8F0BE565';
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token).toUpperCase()).not.toContain(token);
  });

  it('hash the same whatever their letter case, and differently from any other token', () => {
    expect(hashToken('a7ad3752ac7b48099a80e62c8f0be565')).toBe(hashToken('A7AD3752AC7B48099A80E62C8F0BE565'));
    expect(hashToken('A7AD3752AC7B48099A80E62C8F0BE566')).not.toBe(hashToken('A7AD3752AC7B48099A80E62C8F0BE565'));
  });

  it('are 32 hex digits: case folds over ASCII only, so no Unicode letter stands in for one (SPEC §2.5)', () => {
    expect(isTokenFormat('A7AD3752AC7B48099A80E62C8F0BE565')).toBe(true);
    // U+FB00 (ﬀ) upper-cases to "FF": it must not reach the hash as a token whose digits are FF.
    expect(isTokenFormat('A7AD3752AC7B48099A80E62C8F0BE5\uFB00')).toBe(false);
    expect(isTokenFormat('A7AD3752AC7B48099A80E62C8F0BE56')).toBe(false);
    expect(isTokenFormat('A7AD3752AC7B48099A80E62C8F0BE565 ')).toBe(false);
    expect(() => hashToken('A7AD3752AC7B48099A80E62C8F0BE5\uFB00')).toThrow();
  });
});

describe('token liveness: one hour without use, sliding', () => {
  const lastUsed = new Date('2026-03-10T12:00:00Z');
  const at = (ms: number) => new Date(lastUsed.getTime() + ms);

  it('is one hour', () => {
    expect(TOKEN_IDLE_MS).toBe(60 * MINUTE);
  });

  it('keeps a token alive up to an hour after its last use', () => {
    expect(isTokenLive(lastUsed, lastUsed)).toBe(true);
    expect(isTokenLive(lastUsed, at(59 * MINUTE))).toBe(true);
    expect(isTokenLive(lastUsed, at(60 * MINUTE))).toBe(true);
  });

  it('ends it once an hour (plus the touch allowance) has passed without use', () => {
    expect(isTokenLive(lastUsed, at(TOKEN_IDLE_MS + TOKEN_TOUCH_INTERVAL_MS + 1))).toBe(false);
    expect(isTokenLive(lastUsed, at(2 * 60 * MINUTE))).toBe(false);
  });

  it('never lets a token live more than a few minutes past the hour', () => {
    expect(TOKEN_TOUCH_INTERVAL_MS).toBeLessThanOrEqual(5 * MINUTE);
  });

  it('slides: a token used every 50 minutes lives on well past its first hour', () => {
    let stored = lastUsed;
    for (let use = 1; use <= 6; use++) {
      const now = at(use * 50 * MINUTE);
      expect(isTokenLive(stored, now)).toBe(true);
      if (needsTouch(stored, now)) stored = now;
    }
    expect(stored).toEqual(at(300 * MINUTE));
  });

  it('writes the last use at most once per touch interval', () => {
    expect(needsTouch(lastUsed, at(TOKEN_TOUCH_INTERVAL_MS - 1))).toBe(false);
    expect(needsTouch(lastUsed, at(TOKEN_TOUCH_INTERVAL_MS))).toBe(true);
  });

  it('does not die early because of the lag of an unwritten touch', () => {
    // Used at +59 s (no write), then idle: still live an hour after that real use.
    const realUse = at(TOKEN_TOUCH_INTERVAL_MS - 1000);
    expect(needsTouch(lastUsed, realUse)).toBe(false);
    expect(isTokenLive(lastUsed, new Date(realUse.getTime() + TOKEN_IDLE_MS))).toBe(true);
  });
});
