/** The server side of a zlib-based RFB encoding, for unit specs: one stream, a sync flush per chunk. */
import zlib from 'node:zlib';

/**
 * Compresses `chunks` into one zlib stream with Node's streaming Deflate, ending each chunk with a
 * sync flush (what RFB servers do after each rectangle); returns each chunk's compressed bytes.
 */
export async function deflateChunks(chunks: readonly Uint8Array[], options: zlib.ZlibOptions = {}): Promise<Buffer[]> {
  const deflate = zlib.createDeflate(options);
  let pieces: Buffer[] = [];
  deflate.on('data', (piece: Buffer) => pieces.push(piece));
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    pieces = [];
    deflate.write(chunk);
    await new Promise<void>((resolve) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
    out.push(Buffer.concat(pieces));
  }
  deflate.close();
  return out;
}
