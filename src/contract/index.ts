// The admin API's wire contract: what each route takes, as zod schemas that parse snake_case JSON
// into the camelCase inputs the services take. The admin router, its OpenAPI document and the CLI
// all read it; it depends on zod and src/lib only, so the CLI can load it without server code.
export * from './admin-routes.js';
export * from './apis.js';
export * from './api-keys.js';
export * from './audit.js';
export * from './clients.js';
export * from './client-keys.js';
export * from './keys.js';
export * from './openapi.js';
export * from './users.js';
export { parseInput, type ParseResult, type WordedIssue } from './wording.js';
