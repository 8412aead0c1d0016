// The algorithm list lives in src/lib: the admin contract (src/contract) checks it at the edge.
export { DEFAULT_SIGNING_ALGORITHM, SIGNING_ALGORITHMS, isSigningAlgorithm, type SigningAlgorithm } from '../lib/signing-algorithms.js';
