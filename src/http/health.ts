import type { Middleware } from 'koa';
import type { Knex } from 'knex';
import type { KeyRing } from '../keys/key-ring.js';
import { RETRY_AFTER_SECONDS } from './error-boundary.js';
import { gated } from '../web/path-gate.js';

const READINESS_TIMEOUT_MS = 2_000;

async function databaseReachable(db: Knex): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), READINESS_TIMEOUT_MS);
    });
    await Promise.race([db.raw('SELECT 1'), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** GET /healthz: the process runs. GET /readyz: the database answers and signing keys are loaded. */
export function health(db: Knex, keyRing: KeyRing): Middleware {
  const applies = (ctx: { method: string; path: string }) =>
    (ctx.method === 'GET' || ctx.method === 'HEAD') && (ctx.path === '/healthz' || ctx.path === '/readyz');
  return gated(applies, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    const database = await databaseReachable(db);
    const keys = keyRing.snapshot.hasCurrentKeys;
    ctx.status = database && keys ? 200 : 503;
    if (ctx.status === 503) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    ctx.body = {
      status: ctx.status === 200 ? 'ready' : 'not ready',
      database: database ? 'ok' : 'unreachable',
      signing_keys: keys ? 'loaded' : 'missing',
    };
  });
}
