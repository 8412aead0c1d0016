import type { Knex } from 'knex';
import * as initial from './001_initial.js';
import * as users from './002_users.js';
import * as signIn from './003_sign_in.js';
import * as devicePolls from './004_device_polls.js';
import * as hashedPayloadIds from './005_hashed_payload_ids.js';
import * as attemptReservations from './006_attempt_reservations.js';
import * as rateLimits from './007_rate_limits.js';
import * as auditLog from './008_audit_log.js';
import * as clientRateLimits from './009_client_rate_limits.js';
import * as apiKeys from './010_api_keys.js';
import * as clientKeys from './011_client_keys.js';
import * as signatureNonces from './012_signature_nonces.js';
import * as unloggedRateLimits from './013_unlogged_rate_limits.js';
import * as clientCertificates from './014_client_certificates.js';

export interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
}

/** Forward-only and in order: append new migrations, never edit or reorder applied ones. */
export const migrations: Migration[] = [
  { name: '001_initial', up: initial.up },
  { name: '002_users', up: users.up },
  { name: '003_sign_in', up: signIn.up },
  { name: '004_device_polls', up: devicePolls.up },
  { name: '005_hashed_payload_ids', up: hashedPayloadIds.up },
  { name: '006_attempt_reservations', up: attemptReservations.up },
  { name: '007_rate_limits', up: rateLimits.up },
  { name: '008_audit_log', up: auditLog.up },
  { name: '009_client_rate_limits', up: clientRateLimits.up },
  { name: '010_api_keys', up: apiKeys.up },
  { name: '011_client_keys', up: clientKeys.up },
  { name: '012_signature_nonces', up: signatureNonces.up },
  { name: '013_unlogged_rate_limits', up: unloggedRateLimits.up },
  { name: '014_client_certificates', up: clientCertificates.up },
];
