import type { Knex } from 'knex';
import { affectedRows } from '../../db/affected-rows.js';
import { sha256Base64url } from '../../lib/sha256.js';

/** RFC 8628 §3.5: after slow_down, the interval grows by 5 seconds for all later requests. */
const SLOW_DOWN_STEP = 5;
/** Network jitter: a poll this much early still counts as on time. */
const SLACK_MS = 500;

export type PollVerdict = { tooFast: false } | { tooFast: true; intervalSeconds: number };

/**
 * Poll timing per device code, in the database so every instance sees the same last poll.
 * Only a hash of the device code is stored.
 */
export class DevicePolls {
  constructor(
    private readonly db: Knex,
    private readonly initialInterval: number,
  ) {}

  async record(deviceCode: string): Promise<PollVerdict> {
    const codeHash = sha256Base64url(deviceCode);
    return this.db.transaction(async (trx) => {
      const previous: { interval_seconds: number; last_poll_at: Date } | undefined = await trx('device_polls')
        .where({ code_hash: codeHash })
        .forUpdate()
        .first();
      if (!previous) {
        await trx('device_polls')
          .insert({ code_hash: codeHash, interval_seconds: this.initialInterval, last_poll_at: trx.fn.now() })
          .onConflict('code_hash')
          .ignore();
        return { tooFast: false };
      }
      const elapsed = Date.now() - new Date(previous.last_poll_at).getTime();
      const tooFast = elapsed + SLACK_MS < previous.interval_seconds * 1000;
      const intervalSeconds = tooFast ? previous.interval_seconds + SLOW_DOWN_STEP : previous.interval_seconds;
      await trx('device_polls')
        .where({ code_hash: codeHash })
        .update({ interval_seconds: intervalSeconds, last_poll_at: trx.fn.now() });
      return tooFast ? { tooFast: true, intervalSeconds } : { tooFast: false };
    });
  }

  /** Forgets devices that have not polled for an hour (their codes expired long before). */
  async sweep(): Promise<number> {
    return affectedRows(
      await this.db('device_polls')
        .where('last_poll_at', '<', new Date(Date.now() - 3600_000))
        .delete(),
    );
  }
}
