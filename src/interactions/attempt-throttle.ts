import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';

/**
 * Failed attempts (passwords, device codes) slow further attempts with a capped, growing delay,
 * held in the database so every instance sees the same counts. There is no lockout: the delay
 * for (username, IP) cannot keep the real user, elsewhere, out of their account.
 */
const POLICIES = {
  /** Passwords for one username from one IP. */
  user: { free: 3, capSeconds: 60 },
  /** Passwords for any username from one IP. */
  ip: { free: 20, capSeconds: 60 },
  /** Device user codes from one IP (RFC 8628 §5.1: codes are short, so guessing is throttled). */
  device: { free: 5, capSeconds: 60 },
} as const;
/** Failures older than this are forgotten. */
export const WINDOW_SECONDS = 15 * 60;

export type AttemptKind = keyof typeof POLICIES;

export interface Subject {
  kind: AttemptKind;
  /** What is being limited, e.g. "alice|203.0.113.7"; stored only as a hash. */
  value: string;
}

function keyFor(subject: Subject): string {
  return crypto.createHash('sha256').update(`${subject.kind}|${subject.value}`).digest('base64url');
}

/** Seconds to wait after `failures` failures: nothing for the first few, then doubling, capped. */
export function delaySeconds(kind: AttemptKind, failures: number): number {
  const { free, capSeconds } = POLICIES[kind];
  if (failures < free) return 0;
  return Math.min(capSeconds, 2 ** (failures - free));
}

export class AttemptThrottle {
  constructor(private readonly db: Knex) {}

  /** Seconds until another attempt is allowed for all these subjects (0: now). */
  async waitSeconds(subjects: Subject[]): Promise<number> {
    const keys = subjects.map(keyFor);
    const rows: { key: string; failures: number; last_failure_at: Date }[] = await this.db('sign_in_failures')
      .whereIn('key', keys)
      .andWhere('last_failure_at', '>', new Date(Date.now() - WINDOW_SECONDS * 1000));
    let wait = 0;
    subjects.forEach((subject, i) => {
      const row = rows.find((candidate) => candidate.key === keys[i]);
      if (!row) return;
      const until = new Date(row.last_failure_at).getTime() + delaySeconds(subject.kind, row.failures) * 1000;
      wait = Math.max(wait, Math.ceil((until - Date.now()) / 1000));
    });
    return wait;
  }

  async recordFailure(subjects: Subject[]): Promise<void> {
    const staleBefore = new Date(Date.now() - WINDOW_SECONDS * 1000);
    for (const subject of subjects) {
      await this.db.raw(
        `INSERT INTO sign_in_failures (key, failures, last_failure_at) VALUES (?, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN sign_in_failures.last_failure_at < ? THEN 1 ELSE sign_in_failures.failures + 1 END,
           last_failure_at = now()`,
        [keyFor(subject), staleBefore],
      );
    }
  }

  async recordSuccess(subject: Subject): Promise<void> {
    await this.db('sign_in_failures').where({ key: keyFor(subject) }).delete();
  }

  /** Forgets failures older than the window; run by the sweeper. */
  async sweep(): Promise<number> {
    return affectedRows(await this.db('sign_in_failures').where('last_failure_at', '<', new Date(Date.now() - WINDOW_SECONDS * 1000)).delete());
  }
}

/** The subjects a password attempt counts against. */
export function passwordSubjects(username: string, ip: string): Subject[] {
  return [{ kind: 'user', value: `${username.toLowerCase()}|${ip}` }, { kind: 'ip', value: ip }];
}
