import { SecurityType, securityTypeName } from '../constants.js';
import type { SecurityHandler } from './security.js';

/** Security type None: nothing to exchange. */
export class NoneSecurity implements SecurityHandler {
  readonly type = SecurityType.None;
  readonly name = securityTypeName(SecurityType.None);

  process(): boolean {
    return true;
  }
}
