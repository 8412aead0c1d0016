import { RepeatedLog } from '../lib/repeated-log.js';
import type { Logger } from '../log.js';
import { open, SealedBoxError } from './sealed-box.js';

/** A database record holding a sealed value, as the log names it (`{client_key: "ck_…"}`): never the value. */
export interface SealedRecord {
  /** The log field naming the record's kind, e.g. `client_key`. */
  kind: string;
  /** The record's id (a keyid): not a secret. */
  id: string;
}

/**
 * The one rule for a value sealed in the database (sealed-box.ts) and opened while answering a
 * request or on a schedule (an HMAC secret at each signature verification, at a key-encryption
 * key rotation): a value that does not open — altered in the database, copied from another row,
 * or sealed under a key-encryption key no longer configured — makes its record unusable, as if it
 * were not there. The caller answers as for an unknown record (for a signature: refused, like any
 * unusable key), never with a 5xx: nothing the requester did is wrong, and the other records keep
 * working. The operator is told with an error line naming the record and why — at most one per
 * record per interval (RepeatedLog; every request of a partner with such a key fails alike) —
 * and never the sealed value or anything it would have opened to.
 *
 * Not here: values sealed under a key the request itself supplies (a device code under its user
 * code, an interaction under its id, src/artefacts/), whose failure to open is the ordinary answer
 * to a wrong code; and what Tollgate cannot run without (its signing keys and server secrets,
 * opened at start), where a value that does not open stops the start with the reason.
 */
export class SealedRecords {
  readonly #log: RepeatedLog;

  constructor(
    private readonly keks: Buffer[],
    logger: Logger,
  ) {
    this.#log = new RepeatedLog(logger);
  }

  /** The opened value, or undefined (logged) when it does not open. */
  open(sealed: string, context: string, record: SealedRecord): string | undefined {
    try {
      return open(this.keks, sealed, context);
    } catch (error) {
      if (!(error instanceof SealedBoxError)) throw error;
      this.#log.error(
        `sealed-value-unusable ${record.kind} ${record.id}`,
        { [record.kind]: record.id, reason: error.message },
        `the sealed value of ${record.kind} ${record.id} does not open: it is refused as unusable until it is replaced`,
      );
      return undefined;
    }
  }
}
