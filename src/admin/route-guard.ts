import type Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import { parseInput, type AdminRoute } from '../contract/index.js';
import { ValidationError } from '../lib/errors.js';
import { readJsonBody } from './json-body.js';

/** What a guarded route receives: its path parameters and body, parsed and typed by its contract. */
export interface GuardedInput<Route extends AdminRoute> {
  params: z.output<Route['params']>;
  body: Route['body'] extends z.ZodType ? z.output<Route['body']> : undefined;
}

function parsed<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = parseInput(schema, input);
  if (!result.ok) throw new ValidationError(result.problem.message);
  return result.value;
}

/**
 * Registers a route with its contract (as Logto's koa-guard): the body is read and parsed at the
 * edge, and the handler gets typed camelCase input or never runs — a bad body is a 400 naming the
 * field before any service or database is asked.
 */
export function guardedRoute<Route extends AdminRoute>(
  router: Router,
  route: Route,
  handle: (ctx: Context, input: GuardedInput<Route>) => Promise<void> | void,
): void {
  // Named by its operationId: the request's metrics carry the name, never the path with its ids.
  router[route.method](route.operationId, route.path, async (ctx) => {
    const params = parsed(route.params, { ...ctx.params });
    const body = route.body ? parsed(route.body, await readJsonBody(ctx)) : undefined;
    await handle(ctx, { params, body } as GuardedInput<Route>);
  });
}
