/**
 * The clipboard conversation with the server: plain cut text (Latin-1) until the server announces
 * Extended Clipboard, then notify → request → provide with UTF-8 text both ways.
 */
import { EventEmitter } from 'node:events';
import { VNCInputError } from '../errors.js';
import { ClientMessage } from './constants.js';
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

/**
 * How plain (non-Extended) cut text is encoded: RFC 6143 says Latin-1, but some servers (wayvnc /
 * neatvnc) read and write UTF-8 there.
 */
export type PlainClipboardEncoding = 'latin1' | 'utf-8';

const CLIENT_ACTIONS = ClipboardAction.Request | ClipboardAction.Peek | ClipboardAction.Notify | ClipboardAction.Provide;

export class ClipboardChannel extends EventEmitter<{ text: [text: string] }> {
  /** The clipboard text as last known: announced by the server, or set by this client. */
  text: string | undefined;
  /** Whether the server announced Extended Clipboard capabilities. */
  extended = false;

  private localText: string | undefined;
  private readonly send: (bytes: Uint8Array) => Promise<void>;
  readonly plainEncoding: PlainClipboardEncoding;

  constructor(send: (bytes: Uint8Array) => Promise<void>, plainEncoding: PlainClipboardEncoding = 'latin1') {
    super();
    this.send = send;
    this.plainEncoding = plainEncoding;
  }

  /** Plain cut text as the parser decoded it (byte = code point), re-read as UTF-8 where so configured. */
  receivedPlainBytes(latin1: string): void {
    this.receivedPlain(this.plainEncoding === 'utf-8' ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1);
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
    const sent = this.extended
      ? this.announce(text)
      : this.send(this.plainEncoding === 'utf-8' ? clientCutTextUtf8(text) : clientCutTextLatin1(text));
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

/** ClientCutText (RFC 6143 §7.5.6) carrying UTF-8, for servers that read plain cut text as UTF-8. */
function clientCutTextUtf8(text: string): Uint8Array {
  const payload = Buffer.from(text.replace(/\r\n/g, '\n'), 'utf8');
  if (payload.length > MAX_CLIPBOARD_BYTES) {
    throw new VNCInputError(`ClientCutText: the text is ${payload.length} bytes, larger than the ${MAX_CLIPBOARD_BYTES}-byte limit.`);
  }
  const bytes = Buffer.alloc(8 + payload.length);
  bytes[0] = ClientMessage.ClientCutText;
  bytes.writeUInt32BE(payload.length, 4);
  bytes.set(payload, 8);
  return bytes;
}
