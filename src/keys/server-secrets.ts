import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { kekId, open, seal, sealedBy } from './sealed-box.js';
import { lockForTransaction } from '../db/advisory-locks.js';

/**
 * A secret every instance must share (the cookie-signing keys), generated once and kept sealed
 * in the database, so a session started on one instance is honoured by the others.
 */
export async function serverSecret(db: Knex, keks: Buffer[], name: string): Promise<string> {
  const kek = keks[0];
  if (!kek) throw new Error('no key-encryption key');
  return db.transaction(async (trx) => {
    await lockForTransaction(trx, 'serverSecrets');
    const row: { sealed: string } | undefined = await trx('server_secrets').select('sealed').where({ name }).first();
    if (row) {
      const value = open(keks, row.sealed, name);
      // During a KEY_ENCRYPTION_KEY rotation, re-seal under the new key.
      if (sealedBy(row.sealed) !== kekId(kek))
        await trx('server_secrets')
          .where({ name })
          .update({ sealed: seal(kek, value, name) });
      return value;
    }
    const value = crypto.randomBytes(32).toString('base64url');
    await trx('server_secrets').insert({ name, sealed: seal(kek, value, name) });
    return value;
  });
}
