import type Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import { parseInput, type AdminRoute } from '../contract/index.js';
import { ValidationError } from '../lib/errors.js';
import { readJsonBody } from './json-body.js';

/** What a guarded route receives: its path parameters, query and body, parsed and typed by its contract. */
export interface GuardedInput<Route extends AdminRoute> {
  params: z.output<Route['params']>;
  body: Route['body'] extends z.ZodType ? z.output<Route['body']> : undefined;
  query: Route['query'] extends z.ZodType ? z.output<Route['query']> : undefined;
}

function parsed<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = parseInput(schema, input);
  if (!result.ok) throw new ValidationError(result.problem.message);
  return result.value;
}

/**
 * Registers a route with its contract (as Logto's koa-guard): the query and body are parsed at the
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
    // koa's ctx.query: each parameter as text, or as a list when repeated (refused as not text).
    const query = route.query ? parsed(route.query, { ...ctx.query }) : undefined;
    const body = route.body ? parsed(route.body, await readJsonBody(ctx)) : undefined;
    await handle(ctx, { params, body, query } as GuardedInput<Route>);
  });
}
