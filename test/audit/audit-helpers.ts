import crypto from 'node:crypto';
import { expect } from 'vitest';
import type { TestServer } from '../helpers/server.js';

// What the audit log's test files share: reading entries the way an operator does (GET /audit),
// reading the pino lines a log shipper routes, and looking for secrets in both.

export interface AuditJson {
  id: number;
  time: string;
  type: string;
  actor: string;
  subject: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
}

/** The README's actor format, computed here on its own: `admin:` + 8 hex digits of SHA-256 of the token. */
export function adminActorOf(token: string): string {
  return `admin:${crypto.createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
}

/** GET /audit with a query string; expects 200. */
export async function listAudit(server: TestServer, query = ''): Promise<AuditJson[]> {
  const response = await server.admin('get', `/audit${query ? `?${query}` : ''}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as AuditJson[];
}

/**
 * Runs `read` (which looks at the newest entries) at a moment when nothing else writes: test files share a PostgreSQL
 * and write audit entries side by side, so `read` counts only when the newest entries are the same before and after
 * it. Answers what `read` answered and the newest entries it saw.
 */
export async function whileAuditStandsStill<T>(
  server: TestServer,
  read: () => Promise<T>,
): Promise<{ read: T; newest: AuditJson[] }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const before = await listAudit(server, 'limit=5');
    const answer = await read();
    const after = await listAudit(server, 'limit=5');
    if (JSON.stringify(before) === JSON.stringify(after)) return { read: answer, newest: before };
  }
  throw new Error('the audit log never stood still in 20 tries');
}

/** The one entry of this type about this subject (test files share a PostgreSQL: filtered by subject). */
export async function entryFor(server: TestServer, type: string, subject: string): Promise<AuditJson> {
  const entries = (await listAudit(server, `type=${type}&limit=1000`)).filter((entry) => entry.subject === subject);
  expect(entries, `${type} about ${subject}`).toHaveLength(1);
  return entries[0]!;
}

/** Every pino line this server wrote with `audit: true`, parsed. */
export function auditLines(server: TestServer): Record<string, unknown>[] {
  return server.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.audit === true);
}

/** Fails naming the secret if any of `secrets` appears in `haystack`. */
export function expectNoSecret(haystack: string, secrets: Record<string, string>): void {
  for (const [name, secret] of Object.entries(secrets)) {
    expect(secret.length, name).toBeGreaterThan(5);
    expect(haystack.includes(secret), `${name} found in the audit log`).toBe(false);
  }
}

/** The loopback address supertest connects from, as Koa reports it (IPv4 or IPv4-mapped IPv6). */
export const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$/;
