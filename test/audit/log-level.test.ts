import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../helpers/fixtures.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { auditLines, entryFor } from './audit-helpers.js';

/**
 * The README's "A pino line too": each audit entry is logged at `info` with `audit: true`;
 * `LOG_LEVEL` `warn` or above hides those lines, and the database keeps the entries anyway.
 * The same admin change on a server at each level: `info`, where the line is written, and
 * `warn`, the level just above it, where it is not.
 */
describe.each([
  { level: 'info', lines: 1, logged: 'with a pino line each' },
  { level: 'warn', lines: 0, logged: 'without a pino line' },
])('audit entries at LOG_LEVEL=$level', ({ level, lines, logged }) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ env: { LOG_LEVEL: level } });
  });
  afterAll(() => server?.close());

  it(`are stored in the database, ${logged}`, async () => {
    const api = await createApi(server, { name: `Orders at ${level}` });
    const entry = await entryFor(server, 'api.created', api.id);
    expect(entry.detail).toMatchObject({ name: `Orders at ${level}` });

    const written = auditLines(server).filter((line) => line.subject === api.id);
    expect(written).toHaveLength(lines);
    for (const line of written) expect(line).toMatchObject({ level: 30, type: 'api.created', detail: entry.detail });
  });
});
