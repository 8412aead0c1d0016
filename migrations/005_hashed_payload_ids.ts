import type { Knex } from 'knex';

/**
 * OAuth artefacts keyed by a digest of their id, not the id (src/artefacts/artefact-ids.ts): rows
 * written before are rewritten in place. A row of the old format is one whose payload still
 * holds its id as `jti` (the new format never does, and grants are not rewritten), so running
 * this again changes nothing.
 *
 * - The id becomes its SHA-256, base64url, as the adapter computes it; `jti` and `userCode`
 *   leave the payload. Sessions, refresh tokens and codes keep working: their holders present
 *   the same values, and the adapter looks up their digests.
 * - A user code's digest is an HMAC under a server secret that is not available here: pending
 *   device codes lose their user code (entering it says "not valid"; the device starts again
 *   within the device code's 10 minutes).
 * - Interactions (a login or consent in progress, an hour at most) hold other artefacts' ids that
 *   are now sealed under the interaction's own id, which cannot be done in SQL: they are deleted,
 *   and a person midway through signing in starts again.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw("DELETE FROM oidc_payloads WHERE kind = 'Interaction' AND payload->>'jti' IS NOT NULL");
  await db.raw(`
    UPDATE oidc_payloads
    SET id = translate(rtrim(encode(sha256(convert_to(id, 'UTF8')), 'base64'), '='), '+/', '-_'),
        payload = payload - 'jti' - 'userCode',
        user_code = NULL
    WHERE kind <> 'Grant' AND payload->>'jti' IS NOT NULL`);
}
