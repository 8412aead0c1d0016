// The scope-name rules live in src/lib: the admin contract (src/contract) checks them at the edge.
export { RESERVED_SCOPES, isReservedScope, isScopeToken } from '../lib/scope-names.js';
