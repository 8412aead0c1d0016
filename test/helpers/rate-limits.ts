import crypto from 'node:crypto';
import { expect } from 'vitest';
import type { TestServer } from './server.js';

// What the rate-limit tests share: made-up client addresses, token requests, the 429 they expect.

/** An address of its own per test (servers trust one proxy hop): counters may outlive a test. */
export function randomIp(): string {
  const octet = () => crypto.randomInt(1, 255);
  return `198.19.${octet()}.${octet()}`;
}

export function tokenRequest(server: TestServer, clientId: string, secret: string, ip = randomIp()) {
  return server
    .public()
    .post('/token')
    .set('X-Forwarded-For', ip)
    .auth(clientId, secret)
    .type('form')
    .send({ grant_type: 'client_credentials' });
}

/** 429 with Retry-After (whole seconds, at most the window) and RFC 6749 §5.2 JSON. */
export function expectTooManyRequests(
  response: { status: number; headers: Record<string, string>; body: Record<string, unknown> },
  windowSeconds: number,
): void {
  expect(response.status, JSON.stringify(response.body)).toBe(429);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['cache-control']).toBe('no-store');
  const retryAfter = response.headers['retry-after'];
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(windowSeconds);
  expect(response.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  expect(response.body).not.toHaveProperty('access_token');
}

/** `tollgate_rate_limited_total{limit}` on the admin listener (0 before the first refusal). */
export async function rateLimited(server: TestServer, limit: string): Promise<number> {
  const response = await server.admin('get', '/metrics');
  expect(response.status).toBe(200);
  const line = response.text.split('\n').find((row) => row.startsWith(`tollgate_rate_limited_total{limit="${limit}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}
