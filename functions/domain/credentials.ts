import { createHash, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

// Not util.promisify: an ESM import of `node:util` loads its lazy parts (parseArgs, diff…) at every cold start.
const scryptAsync = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key))),
  );

/** scrypt cost: N=2^14, r=8, p=1 (OWASP's floor), about 50 ms per hash on a Lambda core. */
const COST = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

/** A salted slow hash, written `scrypt$N$r$p$salt$hash` (base64) so the cost can change later. */
export const hashPassword = async (password: string): Promise<string> => {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, KEY_LENGTH, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), hash.toString('base64')].join('$');
};

// Hashed against when the user does not exist, so a wrong username costs as much time as a wrong password.
const DUMMY_HASH = `scrypt$${COST.N}$${COST.r}$${COST.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEY_LENGTH).toString('base64')}`;

export const verifyPassword = async (password: string, stored: string | undefined): Promise<boolean> => {
  const [scheme, n, r, p, salt, hash] = (stored ?? DUMMY_HASH).split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: COST.maxmem,
  });
  // scrypt keys HMAC with the password, and HMAC pads short keys with zero bytes: "1234" and "1234\0" hash
  // alike. No password contains NUL, so one that does is wrong (refused after the same work).
  return timingSafeEqual(actual, expected) && stored !== undefined && !password.includes('\u0000');
};

/** Tokens are 32 uppercase hex, like CRM.COM's; only their SHA-256 is ever stored. */
export const newToken = (): string => randomBytes(16).toString('hex').toUpperCase();

/** A token as CRM.COM writes it: 32 hex digits, in either case. */
export const TOKEN_PATTERN = /^[0-9A-Fa-f]{32}$/;

export const isTokenFormat = (token: string): boolean => TOKEN_PATTERN.test(token);

/**
 * Case-insensitive over ASCII only (SPEC §2.5): CRM.COM writes tokens in uppercase but integrators are known to
 * lowercase them. Only a token of the right format is hashed, so no Unicode case mapping (`ﬀ` → `FF`) applies.
 */
export const hashToken = (token: string): string => {
  if (!isTokenFormat(token)) throw new Error('hashToken takes a 32-hex token; check isTokenFormat first');
  return createHash('sha256').update(token.toUpperCase()).digest('hex');
};

export const TOKEN_IDLE_MS = 60 * 60 * 1000;
/** A token's last use is written at most once per this interval, so most requests cost no token write. */
export const TOKEN_TOUCH_INTERVAL_MS = 60 * 1000;

/**
 * A token lives until an hour after its last use. `lastUsedAt` lags the real last use by less than the touch
 * interval, so the allowance is added back: a token never dies early.
 */
export const isTokenLive = (lastUsedAt: Date, now: Date): boolean =>
  now.getTime() - lastUsedAt.getTime() <= TOKEN_IDLE_MS + TOKEN_TOUCH_INTERVAL_MS;

export const needsTouch = (lastUsedAt: Date, now: Date): boolean =>
  now.getTime() - lastUsedAt.getTime() >= TOKEN_TOUCH_INTERVAL_MS;
