import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { BoundedSemaphore } from '../lib/bounded-semaphore.js';
import { ValidationError } from '../lib/errors.js';

const scrypt = promisify(crypto.scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

/**
 * scrypt with OWASP's recommended minimum (N=2^17, r=8, p=1: 128 MiB, a few hundred ms here).
 * The parameters are stored with each hash, so raising them later re-hashes nothing until the
 * next password change.
 */
const PARAMS = { N: 2 ** 17, r: 8, p: 1 };
const KEY_LENGTH = 32;
const MAX_MEMORY = 256 * 1024 * 1024;

/**
 * Each scrypt takes 128 MiB and a core for a few hundred ms: a burst of sign-ins must not exhaust
 * memory or starve every other request. At most 2 run at once per process (256 MiB); up to 16
 * sign-ins wait their turn (a few seconds at most); beyond that verifyPassword throws BusyError,
 * which the sign-in form answers with 503 and Retry-After. Setting a password (admin API, CLI)
 * waits however long it takes.
 */
export const passwordHashing = new BoundedSemaphore(2, 16);

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await passwordHashing.run(
    () => scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...PARAMS, maxmem: MAX_MEMORY }),
    'unbounded',
  );
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Throws BusyError (before hashing anything) when too many verifications are already waiting. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await passwordHashing.run(() =>
    scrypt(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: MAX_MEMORY,
    }),
  );
  return crypto.timingSafeEqual(expected, actual);
}

/**
 * A hash of a random password, verified against when a username does not exist, so that a
 * wrong username costs the same time as a wrong password.
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(crypto.randomBytes(16).toString('base64url'));
  return decoy;
}

let common: Promise<Set<string>> | undefined;
/** The ~30,000 most common passwords (zxcvbn's list), loaded the first time a password is set. */
function commonPasswords(): Promise<Set<string>> {
  common ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => new Set(dictionary['passwords-common']));
  return common;
}

/** NIST SP 800-63B §3.1.1.2: at least 8 characters, not a commonly used password. */
export async function assertAcceptablePassword(password: string, username?: string): Promise<void> {
  if ([...password].length < MIN_PASSWORD_LENGTH)
    throw new ValidationError(`the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if ([...password].length > MAX_PASSWORD_LENGTH)
    throw new ValidationError(`the password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  const lowered = password.toLowerCase();
  if ((await commonPasswords()).has(lowered))
    throw new ValidationError('that password is among the most commonly used passwords; choose another');
  if (username && lowered === username.toLowerCase())
    throw new ValidationError('the password must not be the username');
}
