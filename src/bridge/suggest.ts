/** The "did you mean" helper lives in src/transport (the lowest layer that needs it); re-exported for bridge-level imports. */
export { closest, editDistance, type ClosestOptions } from '../transport/suggest.js';
