/**
 * The clipboard conversation with the server: plain cut text (Latin-1) until the server announces
 * Extended Clipboard, then notify → request → provide with UTF-8 text both ways.
 */
import { EventEmitter } from 'node:events';
import {
  ClipboardAction,
  ClipboardFormat,
  MAX_CLIPBOARD_BYTES,
  type ExtendedClipboardMessage,
  clientCaps,
  clientCutTextLatin1,
  clientNotify,
  clientPeek,
  clientProvideText,
  clientRequest,
} from './extended-clipboard.js';

const CLIENT_ACTIONS = ClipboardAction.Request | ClipboardAction.Peek | ClipboardAction.Notify | ClipboardAction.Provide;

export class ClipboardChannel extends EventEmitter<{ text: [text: string] }> {
  /** The clipboard text as last known: announced by the server, or set by this client. */
  text: string | undefined;
  /** Whether the server announced Extended Clipboard capabilities. */
  extended = false;

  private localText: string | undefined;
  private readonly send: (bytes: Uint8Array) => Promise<void>;

  constructor(send: (bytes: Uint8Array) => Promise<void>) {
    super();
    this.send = send;
  }

  receivedPlain(text: string): void {
    this.text = text;
    this.emit('text', text);
  }

  receivedExtended(message: ExtendedClipboardMessage): void {
    switch (message.kind) {
      case 'caps':
        this.extended = true;
        this.reply(clientCaps(ClipboardFormat.Text, CLIENT_ACTIONS, new Map([[ClipboardFormat.Text, MAX_CLIPBOARD_BYTES]])));
        // Servers announce only changes; ask for what the clipboard holds already.
        if (message.actions & ClipboardAction.Peek) this.reply(clientPeek());
        break;
      case 'notify':
        if (message.formats & ClipboardFormat.Text) this.reply(clientRequest(ClipboardFormat.Text));
        break;
      case 'request':
        if (message.formats & ClipboardFormat.Text && this.localText !== undefined) this.reply(clientProvideText(this.localText));
        break;
      case 'peek':
        this.reply(clientNotify(this.localText === undefined ? 0 : ClipboardFormat.Text));
        break;
      case 'provide':
        if (message.text !== undefined) this.receivedPlain(message.text);
        break;
    }
  }

  /** Offers `text` as the client's clipboard; it is then the clipboard as last known. */
  setText(text: string): Promise<void> {
    const sent = this.extended ? this.announce(text) : this.send(clientCutTextLatin1(text));
    this.text = text;
    return sent;
  }

  private announce(text: string): Promise<void> {
    this.localText = text;
    return this.send(clientNotify(ClipboardFormat.Text));
  }

  private reply(bytes: Uint8Array): void {
    this.send(bytes).catch(() => undefined);
  }
}
