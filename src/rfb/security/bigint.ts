/** Big-endian bytes ↔ BigInt and modular exponentiation, for the Diffie-Hellman security types. */

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

/** `value` as exactly `length` big-endian bytes (left-padded with zeros); throws if it does not fit. */
export function bigIntToBytes(value: bigint, length: number): Buffer {
  const hex = value.toString(16);
  if (hex.length > length * 2) throw new RangeError(`${hex.length / 2}-byte number does not fit ${length} bytes`);
  return Buffer.from(hex.padStart(length * 2, '0'), 'hex');
}

/** base^exponent mod modulus, square and multiply. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  if (modulus === 1n) return 0n;
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    e >>= 1n;
    b = (b * b) % modulus;
  }
  return result;
}
