import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { affectedRows } from '../db/affected-rows.js';

/**
 * Failed sign-ins slow further attempts with a capped, growing delay, per (username, IP) and per
 * IP, held in the database so every instance sees the same counts. There is no lockout: a
 * delay per (username, IP) cannot be used to keep the real user, elsewhere, out of their account.
 */
const POLICIES = {
  user: { free: 3, capSeconds: 60 },
  ip: { free: 20, capSeconds: 60 },
} as const;
/** Failures older than this are forgotten. */
const WINDOW_SECONDS = 15 * 60;

type Kind = keyof typeof POLICIES;

function keyFor(kind: Kind, username: string, ip: string): string {
  const material = kind === 'user' ? `user|${username.toLowerCase()}|${ip}` : `ip|${ip}`;
  return crypto.createHash('sha256').update(material).digest('base64url');
}

/** Seconds to wait after `failures` failures: nothing for the first few, then doubling, capped. */
export function delaySeconds(kind: Kind, failures: number): number {
  const { free, capSeconds } = POLICIES[kind];
  if (failures < free) return 0;
  return Math.min(capSeconds, 2 ** (failures - free));
}

export class SignInThrottle {
  constructor(private readonly db: Knex) {}

  /** Seconds until another attempt is allowed (0: now). */
  async waitSeconds(username: string, ip: string): Promise<number> {
    const keys = { user: keyFor('user', username, ip), ip: keyFor('ip', username, ip) };
    const rows: { key: string; failures: number; last_failure_at: Date }[] = await this.db('sign_in_failures')
      .whereIn('key', Object.values(keys))
      .andWhere('last_failure_at', '>', new Date(Date.now() - WINDOW_SECONDS * 1000));
    let wait = 0;
    for (const kind of ['user', 'ip'] as const) {
      const row = rows.find((candidate) => candidate.key === keys[kind]);
      if (!row) continue;
      const until = new Date(row.last_failure_at).getTime() + delaySeconds(kind, row.failures) * 1000;
      wait = Math.max(wait, Math.ceil((until - Date.now()) / 1000));
    }
    return wait;
  }

  async recordFailure(username: string, ip: string): Promise<void> {
    const staleBefore = new Date(Date.now() - WINDOW_SECONDS * 1000);
    for (const kind of ['user', 'ip'] as const) {
      await this.db.raw(
        `INSERT INTO sign_in_failures (key, failures, last_failure_at) VALUES (?, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN sign_in_failures.last_failure_at < ? THEN 1 ELSE sign_in_failures.failures + 1 END,
           last_failure_at = now()`,
        [keyFor(kind, username, ip), staleBefore],
      );
    }
  }

  async recordSuccess(username: string, ip: string): Promise<void> {
    await this.db('sign_in_failures').where({ key: keyFor('user', username, ip) }).delete();
  }

  /** Forgets failures older than the window; run by the sweeper. */
  async sweep(): Promise<number> {
    return affectedRows(await this.db('sign_in_failures').where('last_failure_at', '<', new Date(Date.now() - WINDOW_SECONDS * 1000)).delete());
  }
}
