/**
 * The trace's container: a plain zip archive of stored (uncompressed) entries. PNG frames are
 * already deflated and the JSON is small, so storing keeps the writer tiny and lets the viewer
 * read entries in the browser without an inflater. Any zip tool opens it.
 */
import { crc32 } from '../rfb/encodings/png.js';
import { VNCInputError } from '../errors.js';

export interface ZipEntry {
  name: string;
  body: Buffer;
}

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
/** Beyond this, zip needs its 64-bit extensions, which this small writer does not do. */
const MAX_ZIP_BYTES = 0xffff_ffff;
const MAX_ENTRIES = 0xffff;

/** Builds a zip archive of stored entries (names are UTF-8). */
export function writeZip(entries: readonly ZipEntry[]): Buffer {
  if (entries.length > MAX_ENTRIES) throw new VNCInputError(`A trace holds at most ${MAX_ENTRIES} files; this one has ${entries.length}.`);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, body } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(body);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(body.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(body.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + body.length;
    if (offset > MAX_ZIP_BYTES) throw new VNCInputError('A trace is limited to 4 GiB; this one is larger.');
  }
  const centralBytes = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralBytes, end]);
}

function notAZip(why: string): VNCInputError {
  return new VNCInputError(`This file is not a VNC trace (${why}). Pass the vnc-trace.zip a test run wrote (see "Traces" in the README).`);
}

/** Reads the entries of a zip archive written by writeZip (stored entries only). */
export function readZip(data: Buffer): ZipEntry[] {
  let end = -1;
  for (let at = data.length - 22; at >= Math.max(0, data.length - 22 - 0xffff); at--) {
    if (data.readUInt32LE(at) === END) {
      end = at;
      break;
    }
  }
  if (end < 0) throw notAZip('no zip directory found');
  const count = data.readUInt16LE(end + 10);
  let at = data.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > data.length || data.readUInt32LE(at) !== CENTRAL) throw notAZip('a damaged zip directory');
    const method = data.readUInt16LE(at + 10);
    const size = data.readUInt32LE(at + 20);
    const nameLength = data.readUInt16LE(at + 28);
    const skip = nameLength + data.readUInt16LE(at + 30) + data.readUInt16LE(at + 32);
    const localAt = data.readUInt32LE(at + 42);
    const name = data.toString('utf8', at + 46, at + 46 + nameLength);
    if (method !== 0) throw notAZip(`entry ${name} is compressed (method ${method}); traces store their entries`);
    if (localAt + 30 > data.length || data.readUInt32LE(localAt) !== LOCAL) throw notAZip(`entry ${name} points outside the file`);
    const start = localAt + 30 + data.readUInt16LE(localAt + 26) + data.readUInt16LE(localAt + 28);
    if (start + size > data.length) throw notAZip(`entry ${name} is cut short`);
    entries.push({ name, body: data.subarray(start, start + size) });
    at += 46 + skip;
  }
  return entries;
}
