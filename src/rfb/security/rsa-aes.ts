/**
 * RSA-AES security types (TigerVNC ≥ 1.13, RealVNC): RSA key exchange, then AES-EAX messages.
 * "RA2" (5) and "RA256" (129) keep encrypting the whole session after the security exchange
 * (SecurityResult included); "RA2ne" (6) and "RAne256" (130) only the exchange itself.
 *
 *   server: u32 key bits, n, e (each ⌈bits/8⌉ bytes)        client: u32 bits, n, e of its own key
 *                                                            client: u16 length, RSA(server key, client random)
 *   server: u16 length, RSA(client key, server random)
 *   from here AES-EAX messages: u16 length, ciphertext, 16-byte tag; the length is the associated
 *   data, the nonce a 16-byte little-endian counter per direction, starting at 0
 *   client: hash(client key ‖ server key)                   server: hash(server key ‖ client key)
 *   server: u8 sub-type (1 username and password, 2 password)
 *   client: u8 length, username, u8 length, password
 *   then the usual SecurityResult: in the clear for RA2ne / RAne256, as AES-EAX messages for RA2 / RA256
 *
 * Randoms are 16 bytes (AES-128, SHA-1) for RA2 / RA2ne, 32 (AES-256, SHA-256) for RA256 / RAne256; RSA is
 * PKCS #1 v1.5. The session key the client sends with is hash(server random ‖ client random), the
 * one it receives with hash(client random ‖ server random). The server's key is not verified
 * against anything (like anonymous TLS): it protects the password from eavesdroppers, not from a
 * server in the middle.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, constants, type KeyObject } from 'node:crypto';
import { VNCAuthenticationError, VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { SecurityType, securityTypeName } from '../constants.js';
import type { RandomSource } from './apple-dh.js';
import { eaxDecrypt, eaxEncrypt } from './eax.js';
import type { Credentials, SecurityHandler, SecurityStatus, SessionCipher } from './security.js';

export const RSA_AES_MIN_KEY_BITS = 1024;
export const RSA_AES_MAX_KEY_BITS = 8192;
/**
 * The client's own key matches the server's size up to this (as TigerVNC's viewer does), and is this
 * size for larger server keys: generating an 8192-bit key would block for seconds, and servers take
 * any client key from 1024 to 8192 bits.
 */
export const RSA_AES_MAX_CLIENT_KEY_BITS = 4096;
const TAG_BYTES = 16;

/** The client's RSA key pair, as n, e and a private key. */
export interface RsaKeyPair {
  n: Buffer;
  e: Buffer;
  privateKey: KeyObject;
}

/** A fresh RSA key of `bits` bits with e = 65537. */
export function generateRsaKeyPair(bits: number): RsaKeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { n: Buffer.from(jwk.n!, 'base64url'), e: Buffer.from(jwk.e!, 'base64url'), privateKey };
}

function leftPad(bytes: Buffer, length: number): Buffer {
  if (bytes.length >= length) return bytes.subarray(bytes.length - length);
  return Buffer.concat([Buffer.alloc(length - bytes.length), bytes]);
}

/** u32 bits, n, e as the wire carries a public key (also what the hashes cover). */
function keyBlob(bits: number, n: Buffer, e: Buffer): Buffer {
  const size = Math.ceil(bits / 8);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(bits);
  return Buffer.concat([header, leftPad(n, size), leftPad(e, size)]);
}

/** RSAES-PKCS1-v1_5 encryption with padding bytes from `random` (mapped to 1…255). */
function rsaEncrypt(n: Buffer, e: Buffer, message: Buffer, random: RandomSource): Buffer {
  const size = n.length;
  const padding = Buffer.from(random(size - 3 - message.length)).map((byte) => Math.floor((byte * 254) / 255 + 1));
  const block = Buffer.concat([Buffer.of(0, 2), padding, Buffer.of(0), message]);
  const key = createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
  return publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
}

/** RSAES-PKCS1-v1_5 decryption; undefined when the padding is wrong. */
function rsaDecrypt(privateKey: KeyObject, ciphertext: Buffer): Buffer | undefined {
  const block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);
  if (block[0] !== 0 || block[1] !== 2) return undefined;
  const end = block.indexOf(0, 2);
  if (end < 10) return undefined;
  return block.subarray(end + 1);
}

/** One direction's AES-EAX messages: a key and a little-endian counter as nonce. */
class MessageCipher {
  private readonly counter = Buffer.alloc(16);
  constructor(private readonly key: Buffer) {}

  private advance(): void {
    for (let i = 0; i < 16 && ++this.counter[i] === 256; i++) this.counter[i] = 0;
  }

  seal(message: Uint8Array): Buffer {
    const header = Buffer.alloc(2);
    header.writeUInt16BE(message.length);
    const sealed = eaxEncrypt(this.key, this.counter, header, message);
    this.advance();
    return Buffer.concat([header, sealed]);
  }

  /** Opens every complete message in `buffer` (starting at 0); returns the plaintext and how many bytes were used. */
  openAll(buffer: Buffer, name: string): { plain: Buffer; used: number } {
    const parts: Buffer[] = [];
    let at = 0;
    while (at + 2 <= buffer.length) {
      const length = buffer.readUInt16BE(at);
      if (at + 2 + length + TAG_BYTES > buffer.length) break;
      const plain = eaxDecrypt(this.key, this.counter, buffer.subarray(at, at + 2), buffer.subarray(at + 2, at + 2 + length + TAG_BYTES));
      if (!plain) throw new VNCProtocolError(`A message from the server (${name}) failed its AES-EAX check: the connection was tampered with or the server is broken.`);
      this.advance();
      parts.push(plain);
      at += 2 + length + TAG_BYTES;
    }
    return { plain: Buffer.concat(parts), used: at };
  }

  /** Opens the next message from the queue; undefined while incomplete. */
  open(queue: ByteQueue, what: string, name: string): Buffer | undefined {
    if (!queue.has(2)) return undefined;
    const length = queue.peekU16();
    if (!queue.has(2 + length + TAG_BYTES)) return undefined;
    const header = Buffer.from(queue.view(2));
    const plain = eaxDecrypt(this.key, this.counter, header, queue.view(length + TAG_BYTES));
    if (!plain) throw new VNCProtocolError(`The server's ${what} (${name}) failed its AES-EAX check: the connection was tampered with or the server is broken.`);
    this.advance();
    return plain;
  }
}

type State = 'public-key' | 'random' | 'hash' | 'subtype' | 'done';

export interface RsaAesOptions {
  /** Random bytes (tests pass their own). */
  random?: RandomSource;
  /** The client's key pair for a server key of `bits` bits (tests pass their own). */
  keyPair?: (bits: number) => RsaKeyPair;
}

/** Security types 6 (RA2ne) and 130 (RAne256): see the file comment. */
export class RsaAesSecurity implements SecurityHandler {
  readonly type: number;
  readonly name: string;
  readonly failureHint = 'Check the password (and the username, when the server asks for one).';
  private readonly credentials: Credentials;
  private readonly random: RandomSource;
  private readonly makeKeyPair: (bits: number) => RsaKeyPair;
  private readonly aes256: boolean;
  private state: State = 'public-key';
  private serverBlob: Buffer = Buffer.alloc(0);
  private clientBlob: Buffer = Buffer.alloc(0);
  private clientKey: RsaKeyPair | undefined;
  private clientRandom: Buffer = Buffer.alloc(0);
  private sending: MessageCipher | undefined;
  private receiving: MessageCipher | undefined;

  /** The cipher for the rest of the session (RA2 / RA256), once the exchange is complete. */
  sessionCipher: SessionCipher | undefined;
  private readonly wholeSession: boolean;

  constructor(type: RsaAesType, credentials: Credentials, options: RsaAesOptions = {}) {
    this.type = type;
    this.name = securityTypeName(type);
    this.aes256 = type === SecurityType.RAne256 || type === SecurityType.RA256;
    this.wholeSession = type === SecurityType.RA2 || type === SecurityType.RA256;
    this.credentials = credentials;
    this.random = options.random ?? randomBytes;
    this.makeKeyPair = options.keyPair ?? generateRsaKeyPair;
  }

  process(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
    switch (this.state) {
      case 'public-key':
        return this.readPublicKey(queue, send);
      case 'random':
        return this.readRandom(queue, send);
      case 'hash':
        return this.readHash(queue);
      case 'subtype':
        return this.readSubtype(queue, send);
      case 'done':
        throw new Error('RsaAesSecurity.process called after its exchange finished');
    }
  }

  private readPublicKey(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
    if (!queue.has(4)) return false;
    const bits = queue.peekU32();
    if (bits < RSA_AES_MIN_KEY_BITS || bits > RSA_AES_MAX_KEY_BITS) {
      throw new VNCProtocolError(`The server (${this.name}) sent a ${bits}-bit RSA key; this client accepts ${RSA_AES_MIN_KEY_BITS} to ${RSA_AES_MAX_KEY_BITS} bits.`);
    }
    const size = Math.ceil(bits / 8);
    if (!queue.has(4 + 2 * size)) return false;
    const { password } = this.credentials;
    if (password === undefined || password === '') {
      throw new VNCAuthenticationError(`The server requires ${this.name} (RSA-AES), which needs a password; none was given. Pass \`password\` (and \`username\` if the server asks for one).`);
    }
    queue.skip(4);
    const n = Buffer.from(queue.view(size));
    const e = Buffer.from(queue.view(size));
    this.serverBlob = keyBlob(bits, n, e);
    const clientBits = Math.min(bits, RSA_AES_MAX_CLIENT_KEY_BITS);
    this.clientKey = this.makeKeyPair(clientBits);
    this.clientBlob = keyBlob(clientBits, this.clientKey.n, this.clientKey.e);
    this.clientRandom = Buffer.from(this.random(this.aes256 ? 32 : 16));
    const serverN = n.subarray(n.findIndex((byte) => byte !== 0));
    const encrypted = rsaEncrypt(serverN, e, this.clientRandom, this.random);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(size);
    send(Buffer.concat([this.clientBlob, length, leftPad(encrypted, size)]));
    this.state = 'random';
    return 'continue';
  }

  private readRandom(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
    if (!queue.has(2)) return false;
    const length = queue.peekU16();
    const size = (this.clientBlob.length - 4) / 2;
    if (length !== size) throw new VNCProtocolError(`The server (${this.name}) sent its random encrypted in ${length} bytes, not the ${size} of this client's key.`);
    if (!queue.has(2 + length)) return false;
    queue.skip(2);
    const serverRandom = rsaDecrypt(this.clientKey!.privateKey, Buffer.from(queue.view(length)));
    const randomBytesLength = this.aes256 ? 32 : 16;
    if (!serverRandom || serverRandom.length !== randomBytesLength) throw new VNCProtocolError(`The server's random (${this.name}) does not decrypt to ${randomBytesLength} bytes.`);
    const hash = (...parts: Buffer[]) => createHash(this.aes256 ? 'sha256' : 'sha1').update(Buffer.concat(parts)).digest();
    const keyBytes = this.aes256 ? 32 : 16;
    this.sending = new MessageCipher(hash(serverRandom, this.clientRandom).subarray(0, keyBytes));
    this.receiving = new MessageCipher(hash(this.clientRandom, serverRandom).subarray(0, keyBytes));
    send(this.sending.seal(hash(this.clientBlob, this.serverBlob)));
    this.state = 'hash';
    return 'continue';
  }

  private readHash(queue: ByteQueue): SecurityStatus {
    const received = this.receiving!.open(queue, 'key hash', this.name);
    if (!received) return false;
    const expected = createHash(this.aes256 ? 'sha256' : 'sha1').update(Buffer.concat([this.serverBlob, this.clientBlob])).digest();
    if (!received.equals(expected)) throw new VNCProtocolError(`The server's key hash (${this.name}) does not match the keys exchanged: someone in the middle may have changed them.`);
    this.state = 'subtype';
    return 'continue';
  }

  private readSubtype(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
    const message = this.receiving!.open(queue, 'sub-type', this.name);
    if (!message) return false;
    const subtype = message[0];
    if (message.length !== 1 || (subtype !== 1 && subtype !== 2)) throw new VNCProtocolError(`The server (${this.name}) asked for credentials sub-type ${subtype}; RSA-AES defines 1 (username and password) and 2 (password).`);
    const { username, password } = this.credentials;
    if (subtype === 1 && !username) throw new VNCAuthenticationError(`The server (${this.name}) asks for a username and a password; no username was given. Pass \`username\`.`);
    const user = subtype === 1 ? Buffer.from(username!, 'utf8') : Buffer.alloc(0);
    const pass = Buffer.from(password ?? '', 'utf8');
    if (user.length > 255 || pass.length > 255) throw new VNCAuthenticationError(`${this.name} carries a username and a password of at most 255 bytes each (UTF-8).`);
    send(this.sending!.seal(Buffer.concat([Buffer.of(user.length), user, Buffer.of(pass.length), pass])));
    this.state = 'done';
    if (this.wholeSession) this.sessionCipher = sessionCipher(this.sending!, this.receiving!, this.name);
    return true;
  }
}

/** The RSA-AES types: 5 and 129 encrypt the whole session, 6 and 130 only the security exchange. */
export type RsaAesType = typeof SecurityType.RA2 | typeof SecurityType.RA2ne | typeof SecurityType.RA256 | typeof SecurityType.RAne256;

/** Largest plaintext per message this client sends (TigerVNC's own buffer size). */
const MAX_MESSAGE_BYTES = 8192;

/** The session after RA2 / RA256: the same two ciphers, their counters going on. */
function sessionCipher(sending: MessageCipher, receiving: MessageCipher, name: string): SessionCipher {
  let pending: Buffer = Buffer.alloc(0);
  return {
    seal(bytes) {
      const parts: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += MAX_MESSAGE_BYTES) parts.push(sending.seal(bytes.subarray(at, at + MAX_MESSAGE_BYTES)));
      return Buffer.concat(parts);
    },
    open(raw) {
      pending = pending.length > 0 ? Buffer.concat([pending, raw]) : Buffer.from(raw);
      const { plain, used } = receiving.openAll(pending, name);
      pending = pending.subarray(used);
      return plain;
    },
  };
}

/** Imports a JWK private key as a key pair (for tests and pinned client keys). */
export function rsaKeyPairFromJwk(jwk: Record<string, string>): RsaKeyPair {
  return { n: Buffer.from(jwk.n, 'base64url'), e: Buffer.from(jwk.e, 'base64url'), privateKey: createPrivateKey({ key: jwk, format: 'jwk' }) };
}
