import crypto from 'node:crypto';
import { expect, it } from 'vitest';
import { TEST_KEY_ENCRYPTION_KEY, isolatedPostgres } from '../helpers/database.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/storage.js';
import { addKey, ask, hmacQuestion, signaturePaths, signingPartner, type SigningPartner } from './signature-helpers.js';

// An HMAC secret is sealed under the key-encryption key and opened (ClientKeyService.openSecret)
// at each verification: a rotation of that key (KEY_ENCRYPTION_KEY_PREVIOUS, re-sealing at start)
// must not change which signatures verify. A secret that does not open (its row altered) is left
// unsealed-as-it-was and logged at the re-sealing: it must not stop the start (sealed-records.ts).
it('verifies the same HMAC signatures after a key-encryption key rotation, and refuses a replay across it', async () => {
  // A database of its own: the rotation re-seals everything in it, the key ring too.
  const database = await isolatedPostgres();
  const dataDir = tempDir();
  const env: Record<string, string> = database ? { DATABASE_URL: database.url } : {};
  const before = await startServer({ env, dataDir });
  let partner: SigningPartner;
  let seen: Record<string, string>;
  let altered: string;
  try {
    partner = await signingPartner(before);
    seen = hmacQuestion(partner);
    expect((await ask(before, (await signaturePaths(before)).verify, seen)).body).toMatchObject({ active: true });
    altered = (await addKey(before, partner.clientId, { hmac: true })).keyid;
    const rows = before.tollgate.database.knex('client_keys').where({ keyid: altered });
    const sealed = ((await rows.clone().first()) as { secret_sealed: string }).secret_sealed.split('.');
    sealed[4] = (sealed[4]![0] === 'A' ? 'B' : 'A') + sealed[4]!.slice(1);
    await rows.clone().update({ secret_sealed: sealed.join('.') });
  } finally {
    await before.close();
  }
  const after = await startServer({
    env: {
      ...env,
      KEY_ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64url'),
      KEY_ENCRYPTION_KEY_PREVIOUS: TEST_KEY_ENCRYPTION_KEY,
    },
    dataDir,
  });
  try {
    const path = (await signaturePaths(after)).verify;
    expect((await ask(after, path, hmacQuestion(partner))).body).toMatchObject({
      active: true,
      keyid: partner.hmac.keyid,
    });
    expect((await ask(after, path, seen)).body).toEqual({ active: false });
    expect(after.logs.join('')).toMatch(new RegExp(`"client_key":"${altered}".*does not open`));
    // …and the start says the rotation is not complete while such a secret is left.
    expect(after.logs.join('')).toMatch(/"unopened":1,.*the rotation is not complete/);
  } finally {
    await after.close();
    await database?.drop();
  }
}, 120_000);
