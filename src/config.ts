import fs from 'node:fs';
import path from 'node:path';
import { createPrivateKey, type X509Certificate } from 'node:crypto';
import { parsePemCertificates } from './lib/client-certificates.js';
import { parseRate, type Rate } from './lib/rate.js';
import { projectRoot } from './lib/project-root.js';
import { DEFAULT_ADMIN_HOST, DEFAULT_ADMIN_PORT, dataDirFrom } from './lib/admin-defaults.js';

/**
 * Everything Tollgate reads from its environment, validated once. Every default lives here, but
 * the admin API's location and DATA_DIR's, which the CLI shares (lib/admin-defaults.ts).
 */
export interface Config {
  port: number;
  host: string;
  issuer: string;
  /**
   * How many reverse proxies in front append to X-Forwarded-For (TRUST_PROXY: true = 1, or a
   * number): the client is that many addresses from the right. 0: the headers are ignored.
   */
  trustProxy: number;
  adminPort: number;
  adminHost: string;
  /** Bearer token for the admin API; undefined means "generate into $DATA_DIR/admin-token". */
  adminToken: string | undefined;
  /** External PostgreSQL; undefined selects the embedded PGlite database in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Where the embedded default keeps its generated key-encryption key (never relative to the working directory). */
  keysDir: string;
  keyEncryptionKey: Buffer | undefined;
  keyEncryptionKeyPrevious: Buffer | undefined;
  keyRotationDays: number;
  /** How often each instance runs key maintenance and picks up a changed ring. */
  keyRingCheckSeconds: number;
  jwksMaxAge: number;
  logLevel: string;
  /** How often expired OAuth artefacts are swept from the database. */
  sweepIntervalSeconds: number;
  lifetimes: Lifetimes;
  /** Requests per client address to endpoints that store something for an unauthenticated caller. */
  anonymousRateLimit: Rate;
  /** Failed client authentications per client address at the token, introspection and revocation endpoints. */
  clientAuthFailureLimit: Rate;
  /** Questions answered inactive per client address at the API-key verification endpoint. */
  apiKeyVerificationFailureLimit: Rate;
  /** Per client address, questions to the signature endpoints answered inactive (SIGNATURE_VERIFICATION_FAILURE_LIMIT). */
  signatureVerificationFailureLimit: Rate;
  /** Where rate-limit counters live when set (shared by every instance); undefined keeps them in the database. */
  redisUrl: string | undefined;
  /** Prepended to every Redis key, so deployments (or test runs) sharing one Redis keep apart. */
  redisKeyPrefix: string;
  /** After SIGTERM/SIGINT, how long requests in flight may take before their connections are cut. */
  shutdownGraceSeconds: number;
  /** Audit log entries older than this many days are swept. */
  auditRetentionDays: number;
  /** TLS_CERT and TLS_KEY (PEM): the public listener serves HTTPS itself; undefined: plain HTTP. */
  tls: { cert: string; key: string } | undefined;
  /**
   * TLS_CLIENT_CA: the CAs whose client certificates authenticate tls_client_auth clients (each a
   * trust anchor); with `tls`, the listener asks every client for a certificate (never requires one).
   */
  clientCa: { pem: string; certificates: X509Certificate[] } | undefined;
  /** CLIENT_CERT_HEADER (lower case): the RFC 9440 header a TLS-terminating proxy puts the client certificate in. */
  clientCertHeader: string | undefined;
}

/** Token and session lifetimes in seconds (access tokens are set per API). */
export interface Lifetimes {
  idToken: number;
  /** A refresh token unused for this long expires. */
  refreshTokenIdle: number;
  /** No refresh token of a family outlives its first issue by more than this. */
  refreshTokenAbsolute: number;
  /** A sign-in session at Tollgate (the cookie). */
  session: number;
  /** How long a device code and its user code can be used (RFC 8628 expires_in). */
  deviceCode: number;
  /** The polling interval a device is told to keep (RFC 8628 interval). */
  devicePollInterval: number;
}

/**
 * A start-up error, not an answer to a caller: it stops the process with one line on stderr before
 * any listener exists, so it stays outside the TollgateError model of src/lib/errors.ts.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** TRUST_PROXY: unset or false ignores X-Forwarded-*; true is one proxy; a number counts the proxies. */
function proxyHops(raw: string | undefined): number {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false' || value === 'no') return 0;
  if (value === 'true' || value === 'yes') return 1;
  if (/^\d{1,2}$/.test(value) && Number(value) <= 16) return Number(value);
  throw new ConfigError(`TRUST_PROXY must be true, false or the number of proxies in front (0-16), got "${raw}"`);
}

/** A 32-byte key given as base64url (padding and standard base64 tolerated). */
export function parseKey(name: string, raw: string | undefined): Buffer | undefined {
  if (raw === undefined || raw === '') return undefined;
  const key = Buffer.from(raw.trim(), 'base64url');
  if (key.length !== 32) {
    throw new ConfigError(
      `${name} must be 32 random bytes in base64url (43 characters), e.g. the output of: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`,
    );
  }
  return key;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(raw: string | undefined): string {
  const value = raw && raw !== '' ? raw : 'info';
  if (!LOG_LEVELS.includes(value))
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return value;
}

function issuerFrom(raw: string | undefined, port: number, scheme: 'http' | 'https'): string {
  const value = raw && raw !== '' ? raw : `${scheme}://localhost:${port}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`ISSUER must be an absolute URL, got "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('ISSUER must be an http(s) URL');
  if (url.search || url.hash) throw new ConfigError('ISSUER must not have a query or fragment');
  // The issuer identifier is compared as a string by clients: no trailing slash.
  return url.href.replace(/\/$/, '');
}

/**
 * OAuth needs TLS on every endpoint (RFC 6749 §3.1, §3.2, §10.9; RFC 8414 §2: the issuer "uses
 * the https scheme"); only the loopback is exempt, as for redirect URIs (RFC 8252 §8.3). A
 * plain-http issuer elsewhere still starts — a private container network or a test rig may use
 * one, and refusing would need an escape hatch of its own — but never silently: the words here
 * are logged at start.
 */
export function insecureIssuerWarning(issuer: string): string | undefined {
  const { protocol, hostname } = new URL(issuer);
  const loopback =
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(hostname);
  if (protocol !== 'http:' || loopback) return undefined;
  return `ISSUER ${issuer} is plain http on a non-loopback host: codes, tokens and session cookies would cross the network unencrypted; use an https ISSUER (TLS at a reverse proxy is fine)`;
}

function rate(env: Env, name: string, fallback: string): Rate {
  const raw = env[name];
  try {
    return parseRate(raw === undefined || raw === '' ? fallback : raw);
  } catch (error) {
    throw new ConfigError(`${name}: ${(error as Error).message}`);
  }
}

const DAY = 86_400;

function lifetimes(env: Env): Lifetimes {
  const result = {
    idToken: integer(env, 'ID_TOKEN_TTL', 3600, 60, DAY),
    refreshTokenIdle: integer(env, 'REFRESH_TOKEN_IDLE_TTL', 14 * DAY, 60, 365 * DAY),
    refreshTokenAbsolute: integer(env, 'REFRESH_TOKEN_ABSOLUTE_TTL', 90 * DAY, 60, 5 * 365 * DAY),
    session: integer(env, 'SESSION_TTL', 14 * DAY, 60, 365 * DAY),
    deviceCode: integer(env, 'DEVICE_CODE_TTL', 600, 10, 3600),
    devicePollInterval: integer(env, 'DEVICE_POLL_INTERVAL', 5, 1, 60),
  };
  if (result.refreshTokenIdle > result.refreshTokenAbsolute) {
    throw new ConfigError('REFRESH_TOKEN_IDLE_TTL must not exceed REFRESH_TOKEN_ABSOLUTE_TTL');
  }
  return result;
}

/** A PEM file named by a variable, read at start; a one-line error if it cannot be. */
function pemFile(env: Env, name: string): string | undefined {
  const file = env[name];
  if (file === undefined || file === '') return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function serverTls(env: Env): Config['tls'] {
  const cert = pemFile(env, 'TLS_CERT');
  const key = pemFile(env, 'TLS_KEY');
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined)
    throw new ConfigError('TLS_CERT and TLS_KEY go together: set both (PEM files) or neither');
  let leaf: X509Certificate;
  try {
    [leaf] = parsePemCertificates(cert) as [X509Certificate];
  } catch (error) {
    throw new ConfigError(`TLS_CERT ${env.TLS_CERT} is not a readable PEM certificate: ${(error as Error).message}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError(
      `TLS_KEY ${env.TLS_KEY} is not a readable PEM private key (unencrypted PKCS#8, PKCS#1 or SEC1)`,
    );
  }
  if (!leaf.checkPrivateKey(privateKey))
    throw new ConfigError(`TLS_KEY ${env.TLS_KEY} is not the private key of the certificate in TLS_CERT`);
  return { cert, key };
}

/** An HTTP field name (RFC 9110 §5.1, a token), lower case as Node gives header names. */
function headerName(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(raw.trim()))
    throw new ConfigError(`CLIENT_CERT_HEADER must be a header name such as Client-Cert, got "${raw}"`);
  return raw.trim().toLowerCase();
}

/**
 * Where client certificates come from: Tollgate's own TLS listener, or a TLS-terminating proxy's
 * header — one or the other. A header is believed only from a proxy Tollgate is told it sits
 * behind (TRUST_PROXY): otherwise anyone could claim any certificate by sending one.
 */
function clientCertificates(env: Env, tls: Config['tls'], trustProxy: number) {
  const clientCertHeader = headerName(env.CLIENT_CERT_HEADER);
  // One source, never two: where Tollgate terminates TLS the connection tells the certificate,
  // and a header would be a second, weaker claim to it.
  if (clientCertHeader && tls)
    throw new ConfigError(
      'CLIENT_CERT_HEADER is for a proxy that terminates TLS; with TLS_CERT Tollgate terminates it and reads client certificates from its own connections: set one or the other',
    );
  if (clientCertHeader && trustProxy === 0)
    throw new ConfigError(
      'CLIENT_CERT_HEADER needs TRUST_PROXY: without a trusted proxy in front, anyone could send that header and claim any certificate',
    );
  const pem = pemFile(env, 'TLS_CLIENT_CA');
  if (pem === undefined) return { clientCertHeader, clientCa: undefined };
  if (!tls && !clientCertHeader)
    throw new ConfigError(
      'TLS_CLIENT_CA needs TLS_CERT and TLS_KEY (Tollgate terminates TLS) or CLIENT_CERT_HEADER (a proxy does): otherwise no client certificate ever arrives',
    );
  try {
    return { clientCertHeader, clientCa: { pem, certificates: parsePemCertificates(pem) } };
  } catch (error) {
    throw new ConfigError(
      `TLS_CLIENT_CA ${env.TLS_CLIENT_CA} is not a readable PEM certificate bundle: ${(error as Error).message}`,
    );
  }
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const databaseUrl = env.DATABASE_URL && env.DATABASE_URL !== '' ? env.DATABASE_URL : undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// URL');
  }
  const keyEncryptionKey = parseKey('KEY_ENCRYPTION_KEY', env.KEY_ENCRYPTION_KEY);
  if (databaseUrl && !keyEncryptionKey) {
    throw new ConfigError(
      "KEY_ENCRYPTION_KEY is required with DATABASE_URL (32 random bytes, base64url); generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"",
    );
  }
  const redisUrl = env.REDIS_URL && env.REDIS_URL !== '' ? env.REDIS_URL : undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl))
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL');
  const trustProxy = proxyHops(env.TRUST_PROXY);
  const tls = serverTls(env);
  const adminToken = env.ADMIN_TOKEN && env.ADMIN_TOKEN !== '' ? env.ADMIN_TOKEN : undefined;
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('ADMIN_TOKEN must be at least 16 characters');
  }
  return {
    port,
    host: env.HOST || '127.0.0.1',
    issuer: issuerFrom(env.ISSUER, port, tls ? 'https' : 'http'),
    trustProxy,
    adminPort: integer(env, 'ADMIN_PORT', DEFAULT_ADMIN_PORT, 0, 65535),
    adminHost: env.ADMIN_HOST || DEFAULT_ADMIN_HOST,
    adminToken,
    databaseUrl,
    dataDir: dataDirFrom(env),
    // Resolved against the project, so a start from another folder finds the same key.
    keysDir: path.resolve(projectRoot, env.KEYS_DIR || 'keys'),
    keyEncryptionKey,
    keyEncryptionKeyPrevious: parseKey('KEY_ENCRYPTION_KEY_PREVIOUS', env.KEY_ENCRYPTION_KEY_PREVIOUS),
    keyRotationDays: integer(env, 'KEY_ROTATION_DAYS', 30, 1, 3650),
    keyRingCheckSeconds: integer(env, 'KEY_RING_CHECK_SECONDS', 30, 1, 60),
    jwksMaxAge: integer(env, 'JWKS_MAX_AGE', 300, 0, 86400),
    logLevel: logLevel(env.LOG_LEVEL),
    sweepIntervalSeconds: integer(env, 'SWEEP_INTERVAL_SECONDS', 60, 1, 86400),
    lifetimes: lifetimes(env),
    anonymousRateLimit: rate(env, 'ANONYMOUS_RATE_LIMIT', '60/min'),
    clientAuthFailureLimit: rate(env, 'CLIENT_AUTH_FAILURE_LIMIT', '20/5min'),
    apiKeyVerificationFailureLimit: rate(env, 'API_KEY_VERIFICATION_FAILURE_LIMIT', '300/min'),
    signatureVerificationFailureLimit: rate(env, 'SIGNATURE_VERIFICATION_FAILURE_LIMIT', '300/min'),
    redisUrl,
    redisKeyPrefix: env.REDIS_KEY_PREFIX || 'tollgate:',
    shutdownGraceSeconds: integer(env, 'SHUTDOWN_GRACE_SECONDS', 10, 0, 3600),
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 90, 1, 3650),
    tls,
    ...clientCertificates(env, tls, trustProxy),
  };
}
