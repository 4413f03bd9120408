/**
 * AES in EAX mode (Bellare, Rogaway, Wagner, "The EAX Mode of Operation"), built from node:crypto's
 * AES-ECB (for OMAC/CMAC) and AES-CTR, for RSA-AES. Tags are 16 bytes.
 */
import { createCipheriv, timingSafeEqual } from 'node:crypto';

const BLOCK = 16;

function aesEcb(key: Uint8Array, block: Uint8Array): Buffer {
  const cipher = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

/** Doubling in GF(2^128) (CMAC subkeys). */
function double(block: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) out[i] = ((block[i] << 1) | (i + 1 < BLOCK ? block[i + 1] >> 7 : 0)) & 0xff;
  if (block[0] & 0x80) out[BLOCK - 1] ^= 0x87;
  return out;
}

/** OMAC^t_K(M): CMAC of the block [0…0 t] followed by M. */
function omac(key: Uint8Array, t: number, message: Uint8Array): Buffer {
  const k1 = double(aesEcb(key, Buffer.alloc(BLOCK)));
  const k2 = double(k1);
  const data = Buffer.concat([Buffer.alloc(BLOCK - 1), Buffer.of(t), message]);
  // data is never empty (the tweak block), so the last block is complete or padded.
  const complete = data.length % BLOCK === 0;
  const padded = complete ? Buffer.from(data) : Buffer.concat([data, Buffer.of(0x80), Buffer.alloc(BLOCK - (data.length % BLOCK) - 1)]);
  const last = padded.length - BLOCK;
  const subkey = complete ? k1 : k2;
  for (let i = 0; i < BLOCK; i++) padded[last + i] ^= subkey[i];
  const cipher = createCipheriv(`aes-${key.length * 8}-cbc`, key, Buffer.alloc(BLOCK));
  cipher.setAutoPadding(false);
  const out = Buffer.concat([cipher.update(padded), cipher.final()]);
  return out.subarray(out.length - BLOCK);
}

function ctr(key: Uint8Array, counter: Uint8Array, data: Uint8Array): Buffer {
  const cipher = createCipheriv(`aes-${key.length * 8}-ctr`, key, counter);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

function xor3(a: Buffer, b: Buffer, c: Buffer): Buffer {
  return Buffer.from(a.map((value, i) => value ^ b[i] ^ c[i]));
}

/** EAX encryption: the ciphertext followed by the 16-byte tag. */
export function eaxEncrypt(key: Uint8Array, nonce: Uint8Array, header: Uint8Array, plaintext: Uint8Array): Buffer {
  const n = omac(key, 0, nonce);
  const h = omac(key, 1, header);
  const ciphertext = ctr(key, n, plaintext);
  return Buffer.concat([ciphertext, xor3(n, h, omac(key, 2, ciphertext))]);
}

/** EAX decryption of ciphertext‖tag; undefined when the tag does not match. */
export function eaxDecrypt(key: Uint8Array, nonce: Uint8Array, header: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < BLOCK) return undefined;
  const ciphertext = sealed.subarray(0, sealed.length - BLOCK);
  const n = omac(key, 0, nonce);
  const tag = xor3(n, omac(key, 1, header), omac(key, 2, ciphertext));
  if (!timingSafeEqual(tag, sealed.subarray(sealed.length - BLOCK))) return undefined;
  return ctr(key, n, ciphertext);
}
