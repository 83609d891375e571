import { describe, expect, it } from 'vitest';
import {
  CagOperatorSecretError,
  parseCagOperatorAccount,
  renewalMarginMs,
} from '../../functions/adapters/headend/cag-token.ts';

const PASSWORD = 'S3cr3t-operator-pa55-9f2c';

describe('parseCagOperatorAccount', () => {
  it('reads the username and password of the JSON secret', () => {
    expect(parseCagOperatorAccount(JSON.stringify({ username: 'cag-user', password: PASSWORD }))).toEqual({
      username: 'cag-user',
      password: PASSWORD,
    });
  });

  it('ignores other fields of the secret', () => {
    const value = JSON.stringify({ username: 'cag-user', password: PASSWORD, note: 'rotated 2026-01' });
    expect(parseCagOperatorAccount(value)).toEqual({ username: 'cag-user', password: PASSWORD });
  });

  it.each([
    ['not JSON', `username=cag-user password=${PASSWORD}`, /not JSON/],
    ['a JSON string', JSON.stringify(PASSWORD), /not a JSON object/],
    ['a JSON array', JSON.stringify(['cag-user', PASSWORD]), /not a JSON object/],
    ['without username', JSON.stringify({ password: PASSWORD }), /"username"/],
    ['with an empty username', JSON.stringify({ username: '', password: PASSWORD }), /"username"/],
    ['without password', JSON.stringify({ username: 'cag-user', pass: PASSWORD }), /"password"/],
    ['with a number as password', JSON.stringify({ username: 'cag-user', password: 1234 }), /"password"/],
    ['truncated', `{"username":"cag-user","password":"${PASSWORD}"`, /not JSON/],
  ])('refuses a secret that is %s with a clear error that does not quote it', (_case, value, message) => {
    let thrown: unknown;
    try {
      parseCagOperatorAccount(value);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CagOperatorSecretError);
    const error = thrown as CagOperatorSecretError;
    expect(error.name).toBe('CagOperatorSecretError');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(PASSWORD);
    expect(error.cause).toBeUndefined();
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain(PASSWORD);
  });
});

describe('renewalMarginMs', () => {
  it('is 10 % of a short lifetime', () => {
    expect(renewalMarginMs(1_000)).toBe(100);
    expect(renewalMarginMs(60_000)).toBe(6_000);
  });

  it('is at most 30 seconds', () => {
    expect(renewalMarginMs(300_000)).toBe(30_000);
    expect(renewalMarginMs(3_600_000)).toBe(30_000);
  });
});
