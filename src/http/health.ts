import type { Middleware } from 'koa';
import type { Knex } from 'knex';
import type { KeyRing } from '../keys/key-ring.js';

const READINESS_TIMEOUT_MS = 2_000;

async function databaseReachable(db: Knex): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), READINESS_TIMEOUT_MS); });
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
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/healthz') {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: 'ok' };
      return undefined;
    }
    if (ctx.path === '/readyz') {
      ctx.set('Cache-Control', 'no-store');
      const database = await databaseReachable(db);
      const keys = keyRing.snapshot.hasCurrentKeys;
      ctx.status = database && keys ? 200 : 503;
      ctx.body = { status: ctx.status === 200 ? 'ready' : 'not ready', database: database ? 'ok' : 'unreachable', signing_keys: keys ? 'loaded' : 'missing' };
      return undefined;
    }
    return next();
  };
}
