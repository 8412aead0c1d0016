// The grant types live in src/lib: the admin contract (src/contract) checks them at the edge.
export { DEVICE_CODE_GRANT, GRANT_TYPES, GRANT_TYPE_ALIASES } from '../lib/grant-types.js';
