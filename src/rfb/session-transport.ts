/**
 * The transport the session writes to once the handshake may have switched on a security type's
 * own encryption (RSA-AES RA2 / RA256): until `cipher()` returns one, bytes pass as they are.
 */
import type { Transport } from '../transport/transport.js';
import type { SessionCipher } from './security/security.js';

export function sessionTransport(transport: Transport, cipher: () => SessionCipher | undefined): Transport {
  return {
    get remote() {
      return transport.remote;
    },
    get mayDropOnClose() {
      return transport.mayDropOnClose;
    },
    start: () => {
      throw new Error('Bug: the session transport is started by RFBClient.start');
    },
    write: (bytes) => {
      const active = cipher();
      return transport.write(active ? active.seal(bytes) : bytes);
    },
    close: (timeoutMs) => transport.close(timeoutMs),
    destroy: () => transport.destroy(),
  };
}
