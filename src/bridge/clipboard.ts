import { VNCStateError } from '../errors.js';
import type { BridgeContext } from './context.js';
import { checkTimeout, waitFor } from './waiting.js';

export interface GetTextOptions {
  /** How long to wait for the server's first clipboard announcement. Default: the bridge's timeout. */
  timeoutMs?: number;
}

/**
 * The clipboard shared with the server. Text is UTF-8 where the server speaks Extended Clipboard
 * (TigerVNC ≥ 1.10, recent x11vnc), otherwise Latin-1.
 */
export class Clipboard {
  private readonly context: BridgeContext;

  constructor(context: BridgeContext) {
    this.context = context;
  }

  /**
   * Makes `text` the clipboard on the remote desktop. Some servers (TigerVNC) own the text only
   * while this client stays connected.
   */
  async setText(text: string): Promise<void> {
    await this.context.session().setClipboard(text);
  }

  /** Empties the remote clipboard. */
  clear(): Promise<void> {
    return this.setText('');
  }

  /**
   * The clipboard as last known — announced by the server, or set by this client — waiting up to
   * the timeout for the server's first announcement when there is none yet.
   */
  async getText(options: GetTextOptions = {}): Promise<string> {
    const session = this.context.session();
    if (session.clipboardText !== undefined) return session.clipboardText;
    const timeoutMs = checkTimeout(options.timeoutMs ?? this.context.timeoutMs, 'clipboard.getText');
    return waitFor<string>(
      timeoutMs,
      () => `The server announced no clipboard text within ${timeoutMs} ms. Copy something on the remote desktop first.`,
      (done, fail) => {
        const onClosed = (error: unknown) => fail(error ?? new VNCStateError('The bridge was disconnected while waiting for clipboard text.'));
        session.on('clipboard', done);
        session.on('closed', onClosed);
        return () => {
          session.off('clipboard', done);
          session.off('closed', onClosed);
        };
      },
    );
  }
}
