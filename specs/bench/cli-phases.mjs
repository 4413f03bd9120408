/**
 * Preloaded with `node --import` into a `vnc-agent screenshot` process by speed.bench.ts: marks
 * when the socket connects, when the first PNG band goes to deflate (the frame is complete and
 * the first rows filtered), when the file is written and when the process exits, and prints the
 * marks (ms since the process started) as JSON on stderr's last line.
 */
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import zlib from 'node:zlib';

const marks = { started: performance.now() };
const mark = (name) => {
  if (!(name in marks)) marks[name] = performance.now();
};
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  mark('connecting');
  return connect.apply(this, args);
};
const deflateRaw = zlib.deflateRaw;
zlib.deflateRaw = function (...args) {
  mark('encoding');
  return deflateRaw.apply(this, args);
};
const writeFile = fsp.writeFile;
fsp.writeFile = function (...args) {
  mark('writing');
  return writeFile.apply(this, args);
};
syncBuiltinESMExports();
process.on('exit', () => {
  mark('exiting');
  process.stderr.write(`\n${JSON.stringify(marks)}\n`);
});
