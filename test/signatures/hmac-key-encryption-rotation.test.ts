import crypto from 'node:crypto';
import { expect, it } from 'vitest';
import { TEST_KEY_ENCRYPTION_KEY, isolatedPostgres } from '../helpers/database.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/storage.js';
import { ask, hmacQuestion, signaturePaths, signingPartner, type SigningPartner } from './signature-helpers.js';

// An HMAC secret is sealed under the key-encryption key and opened (ClientKeyService.hmacSecret)
// at each verification: a rotation of that key (KEY_ENCRYPTION_KEY_PREVIOUS, re-sealing at start)
// must not change which signatures verify.
it('verifies the same HMAC signatures after a key-encryption key rotation, and refuses a replay across it', async () => {
  // A database of its own: the rotation re-seals everything in it, the key ring too.
  const database = await isolatedPostgres();
  const dataDir = tempDir();
  const env: Record<string, string> = database ? { DATABASE_URL: database.url } : {};
  const before = await startServer({ env, dataDir });
  let partner: SigningPartner;
  let seen: Record<string, string>;
  try {
    partner = await signingPartner(before);
    seen = hmacQuestion(partner);
    expect((await ask(before, (await signaturePaths(before)).verify, seen)).body).toMatchObject({ active: true });
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
  } finally {
    await after.close();
    await database?.drop();
  }
}, 120_000);
