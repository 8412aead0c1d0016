import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Tollgate never puts request headers, bodies or query strings into a log line; this list is the
 * second line of defence should a field with one of these names ever be logged by mistake.
 */
export const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'client_secret',
  'code',
  'code_verifier',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'device_code',
  'user_code',
  'assertion',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["dpop"]',
  '*.authorization',
  '*.cookie',
  '*.password',
  '*.secret',
  '*.client_secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.code',
  '*.code_verifier',
  '*.device_code',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'tollgate' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  // Buffered, asynchronous writes: a log line per request must not cost a blocking write each
  // (sync stdout took 13-30 % of token throughput). main.ts flushes on shutdown.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}
