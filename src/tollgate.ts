import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { resolveAdminToken } from './admin/admin-bearer.js';
import { createAdminApp } from './admin/admin-app.js';
import { ApiCatalog } from './apis/api-catalog.js';
import { ApiService } from './apis/api-service.js';
import { ApiKeyService } from './api-keys/api-key-service.js';
import { ApiKeyVerifier } from './api-keys/api-key-verifier.js';
import { LastUsedRecorder } from './api-keys/last-used.js';
import { apiKeyVerification } from './http/api-key-verification.js';
import { signatureEndpoints } from './http/signature-endpoints.js';
import { SignatureKeys } from './clients/signature-keys.js';
import { ClientDirectory } from './clients/client-directory.js';
import { ClientService } from './clients/client-service.js';
import { ClientKeyService } from './clients/client-key-service.js';
import { insecureIssuerWarning, type Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { deviceCodeEntry } from './pages/device/code-entry.js';
import { DevicePolls } from './pages/device/device-polls.js';
import { devicePolling } from './pages/device/device-polling.js';
import { noteProviderServerError } from './http/error-boundary.js';
import { issuerPath, issuerPaths } from './web/paths.js';
import { createPublicApp } from './http/public-app.js';
import { devicePages } from './pages/device/device-pages.js';
import { loadExistingGrant } from './pages/interactions/existing-grant.js';
import { providerPages } from './pages/interactions/provider-pages.js';
import { CsrfTokens } from './pages/interactions/csrf.js';
import { interactionRoutes } from './pages/interactions/interaction-routes.js';
import { selfSubmittingFormPolicy } from './pages/interactions/provider-pages.js';
import { AttemptThrottle } from './pages/interactions/attempt-throttle.js';
import { resolveKeyEncryptionKey } from './keys/key-encryption-key.js';
import { KeyRing } from './keys/key-ring.js';
import { serverSecret } from './keys/server-secrets.js';
import { SealedRecords } from './keys/sealed-records.js';
import type { Logger } from './log.js';
import { UserService } from './users/user-service.js';
import { jwtIntrospection } from './oidc/jwt-introspection.js';
import { buildProvider } from './oidc/provider.js';
import { ProviderHost } from './oidc/provider-host.js';
import { startKeyMaintenance } from './keys/key-maintenance.js';
import { MAX_TOKEN_TTL } from './lib/token-lifetime.js';
import { startSweeper } from './oidc/sweeper.js';
import { UserCodeDigest } from './artefacts/artefact-ids.js';
import { RefreshRotation } from './oidc/refresh-rotation.js';
import { anonymousRequestLimit } from './limits/anonymous-requests.js';
import { clientAuthenticationFailureLimit } from './limits/client-authentication-failures.js';
import { clientRateLimit } from './limits/client-rate-limit.js';
import { LIMIT_NAMES } from './limits/limit-names.js';
import { openRateLimitStore } from './limits/rate-limit-store.js';
import { limitsByRate } from './limits/limits-by-rate.js';
import { Metrics } from './metrics/metrics.js';
import { poolUsage, watchPoolWaits } from './db/pool-usage.js';
import { AuditLog } from './audit/audit-log.js';
import { SYSTEM_ACTOR } from './audit/audit-entry.js';
import { RefreshReuseAudit } from './oidc/refresh-reuse-audit.js';
import { ClientCertificates } from './web/client-certificate.js';
import { unusableCertificate } from './http/unusable-certificate.js';

export interface Tollgate {
  config: Config;
  database: Database;
  /** The oidc-provider instance serving now (rebuilt when the key ring changes). */
  readonly provider: Provider;
  keyRing: KeyRing;
  publicApp: Koa;
  adminApp: Koa;
  adminToken: string;
  /** This instance's Prometheus series (GET /metrics on the admin listener). */
  metrics: Metrics;
  /** Admin changes and security events (GET /audit on the admin listener). */
  audit: AuditLog;
  sweepExpired(): Promise<number>;
  /** Runs the key maintenance job now (scheduled rotation, clean-up, pick-up); true if keys changed. */
  maintainKeys(): Promise<boolean>;
  close(): Promise<void>;
}

/** Wires one Tollgate instance: database → migrations → key ring → provider → both apps. */
export async function createTollgate(config: Config, logger: Logger): Promise<Tollgate> {
  const issuerWarning = insecureIssuerWarning(config.issuer);
  if (issuerWarning) logger.warn({ issuer: config.issuer }, issuerWarning);
  // First: a DATA_DIR others can read is refused before anything is opened or written.
  const adminToken = resolveAdminToken(config.adminToken, config.dataDir);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  // Opened once the database is; closed with it, also when the start fails after opening it.
  let closeLimits = async () => {};
  try {
    const db = database.knex;
    // Unbounded: a migration may take longer than a request may wait (see Database.unbounded).
    const applied = await database.unbounded((knex) => migrate(knex));
    if (applied.length) logger.info({ migrations: applied }, 'database migrated');

    const kek = await resolveKeyEncryptionKey({ configured: config.keyEncryptionKey, keysDir: config.keysDir, db });
    const keks = config.keyEncryptionKeyPrevious ? [kek, config.keyEncryptionKeyPrevious] : [kek];
    const audit = new AuditLog(db, logger, config.auditRetentionDays);
    const metrics = new Metrics({
      // Read at scrape time: the key ring is built just below.
      currentKeys: () =>
        keyRing.snapshot.keys.flatMap(({ alg, state, activatedAt }) =>
          state === 'current' && activatedAt ? [{ alg, activatedAt }] : [],
        ),
      pool: () => poolUsage(db),
    });
    watchPoolWaits(db, (seconds) => metrics.poolWait.observe(seconds));
    const keyRing = new KeyRing(
      db,
      keks,
      {
        jwksMaxAge: config.jwksMaxAge,
        // What a key signs lives at most this long: access tokens (≤ 3600 s) and ID tokens.
        maxSignedLifetime: Math.max(MAX_TOKEN_TTL, config.lifetimes.idToken),
        rotationDays: config.keyRotationDays,
      },
      (rotation) => {
        metrics.keyRotations.inc();
        // The admin API records the rotations it is asked for, with its actor; the schedule's are the system's.
        if (rotation.scheduled)
          void audit.record({
            type: 'key.rotated',
            actor: SYSTEM_ACTOR,
            subject: null,
            ip: null,
            detail: { ...rotation },
          });
      },
    );
    await keyRing.initialise();
    const cookieKeys = [await serverSecret(db, keks, 'cookie-signing-key')];
    const refreshReuse = new RefreshReuseAudit(audit);
    // Found after oidc-provider answered 200 (a concurrent use won): counted as reuse and as the
    // error it becomes, and recorded (the reuses oidc-provider finds reach refreshReuse from it).
    const rotations = new RefreshRotation((ctx) => {
      metrics.refreshTokenReuse.inc();
      metrics.oauthError('invalid_grant');
      refreshReuse.note(ctx);
    });
    const adapterOptions = {
      rotations,
      userCodes: new UserCodeDigest(await serverSecret(db, keks, 'user-code-key')),
    };

    // One reading of "the certificate this request presented", for every part that asks.
    const clientCertificates = new ClientCertificates(config.clientCertHeader);
    const certificates = { certificates: clientCertificates, trustedCas: config.clientCa?.certificates ?? [] };
    const catalog = new ApiCatalog(db);
    const directory = new ClientDirectory(db);
    const clientKeys = new ClientKeyService(db, directory, keks, new SealedRecords(keks, logger));
    // During a key-encryption-key rotation, as the ring and the server secrets are.
    const { resealed, unopened } = await clientKeys.resealSecrets();
    if (resealed) logger.info({ resealed }, 'client HMAC secrets sealed under the new key-encryption key');
    if (unopened)
      logger.warn(
        { unopened },
        'client HMAC secrets that do not open were left as they are: their keys stay unusable, and the rotation is not complete (remove those keys before dropping KEY_ENCRYPTION_KEY_PREVIOUS)',
      );
    const paths = issuerPaths(issuerPath(config.issuer));
    // oidc-provider renders these pages itself, through its configuration hooks.
    const pages = { ...providerPages(paths.assets), ...devicePages(paths.assets, catalog) };
    const providers = new ProviderHost(
      (keys) =>
        buildProvider({
          config,
          db,
          catalog,
          directory,
          keys,
          cookieKeys,
          logger,
          adapterOptions,
          paths,
          pages,
          loadExistingGrant: loadExistingGrant(db, directory),
          // Judged (400 for input the database refused, 503 for a database away) and logged,
          // rate-limited, by the public app's error boundary for the request that failed.
          reportServerError: noteProviderServerError,
          metrics,
          refreshReuse,
          certificates,
        }),
      paths.prefix,
      keyRing.snapshot,
    );
    const lastUsed = new LastUsedRecorder(db);
    const apiKeyVerifier = new ApiKeyVerifier(db, catalog, directory, lastUsed);
    const throttle = new AttemptThrottle(db);
    const polls = new DevicePolls(db, config.lifetimes.devicePollInterval);
    const limits = await openRateLimitStore({
      db,
      redisUrl: config.redisUrl,
      redisKeyPrefix: config.redisKeyPrefix,
      logger,
    });
    closeLimits = () => limits.close();
    const refused = (limit: string) => metrics.rateLimited.inc({ limit });
    const interactions = interactionRoutes({
      providers,
      db,
      catalog,
      throttle,
      csrf: new CsrfTokens(await serverSecret(db, keks, 'csrf-key')),
      logger,
      metrics,
      audit,
      paths,
      assets: paths.assets,
    });

    const publicApp = createPublicApp({
      config,
      paths,
      providers,
      cookieKeys,
      db,
      keyRing,
      logger,
      interactions,
      metrics,
      // In this order, right in front of oidc-provider: docs/endpoints.md shows which act on which endpoint.
      protocolExtras: [
        clientAuthenticationFailureLimit({
          paths,
          limit: limits.limit(LIMIT_NAMES.clientAuthFailures, config.clientAuthFailureLimit, { blockInMemory: true }),
          refused,
        }),
        unusableCertificate({ paths, issuer: config.issuer, certificates: clientCertificates }),
        anonymousRequestLimit({
          paths,
          limit: limits.limit(LIMIT_NAMES.anonymous, config.anonymousRateLimit),
          refused,
        }),
        clientRateLimit({ paths, issuer: config.issuer, directory, store: limits, refused, certificates }),
        apiKeyVerification({
          paths,
          verifier: apiKeyVerifier,
          metrics,
          keyLimits: limitsByRate(limits, LIMIT_NAMES.apiKey, { lease: true }),
          failures: limits.limit(LIMIT_NAMES.apiKeyVerificationFailures, config.apiKeyVerificationFailureLimit, {
            blockInMemory: true,
          }),
          refused,
        }),
        signatureEndpoints({
          paths,
          keys: new SignatureKeys(db, catalog, directory, clientKeys),
          nonces: limits.nonces,
          metrics,
          logger,
          failures: limits.limit(LIMIT_NAMES.signatureVerificationFailures, config.signatureVerificationFailureLimit, {
            blockInMemory: true,
          }),
          refused,
        }),
        jwtIntrospection({ paths, issuer: config.issuer, providers, directory, keyRing, certificates }),
        devicePolling({ paths, interval: config.lifetimes.devicePollInterval, polls }),
        deviceCodeEntry({ paths, throttle }),
        selfSubmittingFormPolicy(paths),
        // Outside the commit below: a reuse it finds is recorded once it has turned the answer into invalid_grant.
        refreshReuse.recordAfter(paths),
        // Last, next to oidc-provider: a refresh rotation is written only for a 200 it answered.
        rotations.commitOnSuccess(paths),
      ],
    });
    const adminApp = createAdminApp({
      adminToken,
      apis: new ApiService(db, catalog),
      clients: new ClientService(db, directory),
      clientKeys,
      apiKeys: new ApiKeyService(db, catalog, lastUsed),
      users: new UserService(db),
      keyRing,
      async rotateKeys(force) {
        const rotation = await keyRing.rotate({ force });
        providers.swap(keyRing.snapshot);
        return rotation;
      },
      async revokeKey(kid) {
        const revoked = await keyRing.revoke(kid);
        providers.swap(keyRing.snapshot);
        return revoked;
      },
      logger,
      metrics,
      audit,
    });

    // The timers start last, once nothing above can fail: a failed start closes the database,
    // and a timer left running would go on querying the closed pool and logging its failures.
    const keyMaintenance = startKeyMaintenance({
      keyRing,
      intervalSeconds: config.keyRingCheckSeconds,
      logger,
      apply: (keys) => providers.swap(keys),
    });
    lastUsed.start(logger);
    const sweeper = startSweeper(db, config.sweepIntervalSeconds, logger, [
      () => throttle.sweep(),
      () => polls.sweep(),
      () => limits.sweep(),
      () => limits.nonces.sweep(),
      () => audit.sweep(),
    ]);
    return {
      config,
      database,
      get provider() {
        return providers.current;
      },
      keyRing,
      adminToken,
      metrics,
      audit,
      publicApp,
      adminApp,
      sweepExpired: sweeper.runOnce,
      maintainKeys: keyMaintenance.runOnce,
      async close() {
        sweeper.stop();
        keyMaintenance.stop();
        await limits.close();
        // Before the database closes: the uses seen since the last flush.
        await lastUsed
          .close()
          .catch((error: unknown) =>
            logger.warn(
              { err: { message: (error as Error).message } },
              'recording when API keys were last used failed',
            ),
          );
        await database.close();
      },
    };
  } catch (error) {
    await closeLimits();
    await database.close();
    throw error;
  }
}
