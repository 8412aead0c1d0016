import path from 'node:path';

// Where the admin API listens and where its token is kept when nothing says otherwise. The server
// (config.ts, admin-bearer.ts) and the CLI (cli/admin-client.ts) both read these, so a CLI run
// beside a default server finds it. Pure constants and path arithmetic: the CLI must not load
// server code (it runs without a database, keys or provider).

export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_ADMIN_HOST = '127.0.0.1';
export const DEFAULT_ADMIN_PORT = 3001;
/** The CLI's default for TOLLGATE_ADMIN_URL: the server's default admin listener. */
export const DEFAULT_ADMIN_URL = `http://${DEFAULT_ADMIN_HOST}:${DEFAULT_ADMIN_PORT}`;

const ADMIN_TOKEN_FILE = 'admin-token';
/** How messages and help name the generated token's file. */
export const ADMIN_TOKEN_LOCATION = `$DATA_DIR/${ADMIN_TOKEN_FILE}`;

/** DATA_DIR as an absolute path (relative values resolve against the working directory). */
export function dataDirFrom(env: Record<string, string | undefined>): string {
  return path.resolve(env.DATA_DIR || DEFAULT_DATA_DIR);
}

/** The file the server writes a generated admin token to, and the CLI reads it from. */
export function adminTokenPath(dataDir: string): string {
  return path.join(dataDir, ADMIN_TOKEN_FILE);
}
