import fs from 'node:fs';
import type { AdminRoute } from '../contract/index.js';
import { adminTokenPath, dataDirFrom, DEFAULT_ADMIN_URL } from '../lib/admin-defaults.js';

export class CliError extends Error {
  override name = 'CliError';
}

/** Where the admin API is and how to authenticate, from the contract's variables. */
export function adminConnection(env: NodeJS.ProcessEnv = process.env): { url: string; token: string } {
  const url = (env.TOLLGATE_ADMIN_URL || DEFAULT_ADMIN_URL).replace(/\/$/, '');
  if (env.TOLLGATE_ADMIN_TOKEN) return { url, token: env.TOLLGATE_ADMIN_TOKEN };
  const file = adminTokenPath(dataDirFrom(env));
  try {
    return { url, token: fs.readFileSync(file, 'utf8').trim() };
  } catch {
    throw new CliError(`no admin token: set TOLLGATE_ADMIN_TOKEN, or run this where ${file} exists (DATA_DIR)`);
  }
}

/**
 * The route's path with its parameters (`:id`, `:kid`; `:id` then `:keyid`) filled in, in order,
 * percent-encoded, and its query parameters, if any.
 */
export function routePath(
  route: AdminRoute,
  id: string | readonly string[] = '',
  query: Record<string, string> = {},
): string {
  const search = new URLSearchParams(query).toString();
  const ids = typeof id === 'string' ? [id] : id;
  let next = 0;
  return route.path.replace(/:\w+/g, () => encodeURIComponent(ids[next++] ?? '')) + (search ? `?${search}` : '');
}

/** What one call sends: the path parameters, the JSON body and the query parameters it takes. */
export interface AdminCall {
  id?: string | readonly string[];
  body?: unknown;
  query?: Record<string, string>;
}

/**
 * One call to an admin route, its method and path read from the contract; errors come back as one
 * readable line.
 */
export async function callAdmin(
  route: AdminRoute,
  { id, body, query }: AdminCall = {},
  env?: NodeJS.ProcessEnv,
): Promise<unknown> {
  const { url, token } = adminConnection(env);
  let response: Response;
  try {
    response = await fetch(url + routePath(route, id, query), {
      method: route.method.toUpperCase(),
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new CliError(`cannot reach the admin API at ${url} (${reason}): is Tollgate running? (TOLLGATE_ADMIN_URL)`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    throw new CliError(`the admin API answered ${response.status} with something that is not JSON`);
  }
  if (!response.ok) {
    const error = parsed as { error?: string; error_description?: string } | undefined;
    throw new CliError(error?.error_description ?? error?.error ?? `the admin API answered ${response.status}`);
  }
  return parsed;
}
