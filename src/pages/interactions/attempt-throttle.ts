import type { Knex } from 'knex';
import { affectedRows } from '../../db/affected-rows.js';
import { sha256Base64url } from '../../lib/sha256.js';

/**
 * Sign-in and device-code guessing limits, shared by every instance through the database.
 *
 * Reserve, then verify: an attempt is counted (reserved) in one atomic statement BEFORE the
 * secret is checked, and refused without checking it once its key is at the limit. Concurrent
 * attempts therefore cannot exceed a limit — a check followed by a separate "record the failure"
 * let 8 concurrent wrong passwords all be evaluated. A success gives its reservation back.
 *
 * Limits hold over any window of WINDOW_SECONDS (each key keeps the times of its recent attempts),
 * so there is no burst at a fixed window's edge. Hand-written rather than rate-limiter-flexible:
 * that library counts in fixed windows timed by each instance's clock, and its PostgreSQL store
 * takes raw pg connections, which the embedded PGlite does not provide.
 */
const POLICIES = {
  /** Wrong passwords for one username from one client address: refused beyond the limit. */
  user: { limit: 10 },
  /** Wrong passwords for any usernames from one client address: refused beyond the limit. */
  ip: { limit: 100 },
  /**
   * Failures of one username from anywhere: never refused (that would let anyone lock a user
   * out), only slowed down — see slowDownMs.
   */
  username: { limit: undefined },
  /** Device user codes from one client address (RFC 8628 §5.1: user codes are short). */
  device: { limit: 10 },
} as const;

/** The window every limit applies to: "at most 10 per 15 minutes". */
export const WINDOW_SECONDS = 15 * 60;

/** A username's recent failures from all addresses beyond this many slow its sign-ins down. */
const USERNAME_FREE_FAILURES = 10;
/** The slow-down doubles from this with each further failure… */
const USERNAME_FIRST_DELAY_MS = 200;
/** …up to this: long enough to make a distributed guessing run slow, short enough for a person. */
export const USERNAME_MAX_DELAY_MS = 3000;
/** Failures needed to reach the cap; a username key keeps no more timestamps than that. */
export const USERNAME_KEPT =
  USERNAME_FREE_FAILURES + Math.ceil(Math.log2(USERNAME_MAX_DELAY_MS / USERNAME_FIRST_DELAY_MS)) + 1;

export type AttemptKind = keyof typeof POLICIES;

export interface Subject {
  kind: AttemptKind;
  /** What is being limited, e.g. "alice|203.0.113.7"; stored only as a hash. */
  value: string;
}

/** A counted attempt: give it back with release() if it turns out not to be a failure. */
export interface Reservation {
  subject: Subject;
  /** Attempts counted against the subject within the window, this one included (capped for slow-down keys). */
  count: number;
}

export type ReserveResult =
  { allowed: true; reservations: Reservation[] } | { allowed: false; retryAfterSeconds: number };

/** The row a subject is counted in: a hash, so no username or address is stored. */
export function keyFor(subject: Subject): string {
  return sha256Base64url(`${subject.kind}|${subject.value}`);
}

function rowsOf<T>(result: unknown): T[] {
  return (result as { rows?: T[] }).rows ?? [];
}

/** The delay before checking a password for a username with `failures` earlier failures in the window. */
export function slowDownMs(failures: number): number {
  if (failures < USERNAME_FREE_FAILURES) return 0;
  return Math.min(USERNAME_MAX_DELAY_MS, USERNAME_FIRST_DELAY_MS * 2 ** (failures - USERNAME_FREE_FAILURES));
}

export class AttemptThrottle {
  constructor(private readonly db: Knex) {}

  /**
   * Counts one attempt against each subject, in order, or none: the first subject at its limit
   * refuses the attempt, and the reservations already taken for it are given back.
   */
  async reserve(subjects: Subject[]): Promise<ReserveResult> {
    const reservations: Reservation[] = [];
    for (const subject of subjects) {
      const count = await this.reserveOne(subject);
      if (count === undefined) {
        await this.release(reservations);
        return { allowed: false, retryAfterSeconds: await this.retryAfterSeconds(subject) };
      }
      reservations.push({ subject, count });
    }
    return { allowed: true, reservations };
  }

  /**
   * One statement, atomic under concurrency: ON CONFLICT DO UPDATE locks the key's row, and its
   * WHERE sees the row as the previous reservation left it. Times are newest first; only those
   * within the window count, and only as many as the policy needs are kept.
   * Answers the count including this attempt, or undefined when the key is at its limit.
   */
  private async reserveOne(subject: Subject): Promise<number | undefined> {
    const { limit } = POLICIES[subject.kind];
    const kept = limit ?? USERNAME_KEPT;
    const result = await this.db.raw(
      `INSERT INTO attempt_reservations AS r (key, reserved_at, last_at) VALUES (?, ARRAY[now()], now())
       ON CONFLICT (key) DO UPDATE SET
         reserved_at = ARRAY[now()] || ARRAY(
           SELECT t FROM unnest(r.reserved_at) AS t
           WHERE t > now() - make_interval(secs => ?) ORDER BY t DESC LIMIT ?),
         last_at = now()
       WHERE ?::integer IS NULL
          OR (SELECT count(*) FROM unnest(r.reserved_at) AS t WHERE t > now() - make_interval(secs => ?)) < ?::integer
       RETURNING cardinality(reserved_at) AS count`,
      [keyFor(subject), WINDOW_SECONDS, kept - 1, limit ?? null, WINDOW_SECONDS, limit ?? null],
    );
    const row = rowsOf<{ count: number | string }>(result)[0];
    return row ? Number(row.count) : undefined;
  }

  /** Seconds until the oldest attempt counted against a full key leaves the window. */
  private async retryAfterSeconds(subject: Subject): Promise<number> {
    const result = await this.db.raw(
      `SELECT ceil(extract(epoch FROM min(t) + make_interval(secs => ?) - now())) AS seconds
       FROM attempt_reservations, unnest(reserved_at) AS t
       WHERE key = ? AND t > now() - make_interval(secs => ?)`,
      [WINDOW_SECONDS, keyFor(subject), WINDOW_SECONDS],
    );
    const seconds = Number(rowsOf<{ seconds: number | string | null }>(result)[0]?.seconds ?? 1);
    return Math.max(1, Number.isFinite(seconds) ? seconds : 1);
  }

  /**
   * Gives reservations back: the attempt was not a failure (a right password, a valid code), or
   * was never checked. One attempt each — the newest time — so signing in to an account of one's
   * own cannot wipe the failures counted against an address.
   */
  async release(reservations: Reservation[]): Promise<void> {
    for (const { subject } of reservations) {
      await this.db.raw('UPDATE attempt_reservations SET reserved_at = reserved_at[2:] WHERE key = ?', [
        keyFor(subject),
      ]);
    }
  }

  /** Forgets every attempt counted against a subject: a username's right password from an address. */
  async clear(subject: Subject): Promise<void> {
    await this.db('attempt_reservations')
      .where({ key: keyFor(subject) })
      .delete();
  }

  /** Forgets keys with no attempt inside the window; run by the sweeper. */
  async sweep(): Promise<number> {
    return affectedRows(
      await this.db.raw(
        'DELETE FROM attempt_reservations WHERE last_at < now() - make_interval(secs => ?) OR cardinality(reserved_at) = 0',
        [WINDOW_SECONDS],
      ),
    );
  }
}

/**
 * The subjects a password attempt counts against, in the order they are reserved: the
 * (username, address) pair and the address are limited; the username alone only slows down.
 */
export function passwordSubjects(username: string, ip: string): Subject[] {
  const name = username.normalize('NFKC').toLowerCase();
  return [
    { kind: 'user', value: `${name}|${ip}` },
    { kind: 'ip', value: ip },
    { kind: 'username', value: name },
  ];
}

/** The subject a device code entry counts against. */
export function deviceCodeSubjects(ip: string): Subject[] {
  return [{ kind: 'device', value: ip }];
}
