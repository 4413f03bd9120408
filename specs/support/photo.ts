/**
 * A photo-like picture for servers to show, so that lossy and smooth-image paths (Tight's JPEG
 * and gradient filter) have something to work on: smooth colour waves with a few sharp edges.
 * Written as XWD (X Window Dump, shown on an X server with `xwud`) or as a 24-bit BMP (QEMU's
 * SeaBIOS boot splash, `-boot menu=on,splash=FILE.bmp`).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { delay, startProcess, stopProcess, type StartedProcess } from './processes.js';

export type RGB = [number, number, number];

/** The photo's pixel at (x, y) of a `width`×`height` picture. */
export function photoPixel(x: number, y: number, width: number, height: number): RGB {
  const u = x / width;
  const v = y / height;
  let r = 128 + 110 * Math.sin(6 * u + 2 * v) * Math.cos(4 * v);
  let g = 40 + 200 * u * (1 - v);
  let b = 128 + 120 * Math.sin(9 * u * v + 1);
  // A dark bar and a bright disc: edges among the smooth parts.
  if (y > height * 0.7 && y < height * 0.75) r = g = b = 20;
  const dx = x - width * 0.3;
  const dy = y - height * 0.35;
  if (dx * dx + dy * dy < (height * 0.12) ** 2) [r, g, b] = [250, 240, 200];
  const clamp = (c: number) => Math.max(0, Math.min(255, Math.round(c)));
  return [clamp(r), clamp(g), clamp(b)];
}

/** The photo as an XWD file: ZPixmap, depth 24, 32 bits per pixel, TrueColor, big-endian. */
export function photoXwd(width: number, height: number): Buffer {
  const name = Buffer.from('photo\0', 'latin1');
  const headerSize = 100 + name.length;
  const fields = [
    headerSize, 7 /* file version */, 2 /* ZPixmap */, 24, width, height, 0 /* xoffset */,
    1 /* byte order MSBFirst */, 32, 1 /* bit order */, 32 /* pad */, 32 /* bits per pixel */, width * 4,
    4 /* TrueColor */, 0xff0000, 0x00ff00, 0x0000ff, 8 /* bits per RGB */, 256, 0 /* ncolors */,
    width, height, 0, 0, 0,
  ];
  const out = Buffer.alloc(headerSize + width * height * 4);
  fields.forEach((value, i) => out.writeUInt32BE(value, i * 4));
  name.copy(out, 100);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = photoPixel(x, y, width, height);
      out.writeUInt32BE((r << 16) | (g << 8) | b, headerSize + (y * width + x) * 4);
    }
  }
  return out;
}

/** The photo as a 24-bit bottom-up BMP. */
export function photoBmp(width: number, height: number): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + rowBytes * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(rowBytes * height, 34);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = photoPixel(x, y, width, height);
      const at = 54 + (height - 1 - y) * rowBytes + x * 3;
      out[at] = b;
      out[at + 1] = g;
      out[at + 2] = r;
    }
  }
  return out;
}

export interface PhotoWindow {
  stop(): Promise<void>;
}

/**
 * Shows the photo in a window at (x, y) of an X display with `xwud -noclick` and resolves once it
 * has had time to map (xwud prints nothing when it is up; a short pause is all it needs).
 */
export async function showPhoto(server: { env: NodeJS.ProcessEnv }, dir: string, width: number, height: number, x: number, y: number): Promise<PhotoWindow> {
  const file = join(dir, `photo-${width}x${height}.xwd`);
  await writeFile(file, photoXwd(width, height));
  const proc: StartedProcess = startProcess('xwud', ['-noclick', '-in', file, '-geometry', `+${x}+${y}`], { env: server.env });
  await delay(500);
  if (proc.hasExited()) throw new Error(`xwud exited at once:\n${proc.logTail()}`);
  return { stop: () => stopProcess(proc, 2000) };
}

/**
 * A boot sector for QEMU that animates a smooth picture: VGA mode 13h (320×200, shown by QEMU as
 * 640×400), diagonal bands of colour index (x + y) / 2, and a palette of triangle waves cycled on
 * every timer tick (18.2 Hz) for 127 ticks, about 7 s; then it halts and the screen is still.
 * QEMU sends Tight JPEG (with `lossy=on` and a quality level) only for areas that change often.
 *
 * Assembled with NASM from:
 *
 *       bits 16
 *       org 0x7c00
 *       xor ax, ax / mov ds, ax / mov ss, ax / mov sp, 0x7c00
 *       mov ax, 0x0013 / int 0x10              ; mode 13h
 *       mov ax, 0xa000 / mov es, ax / xor di, di
 *       xor dx, dx                             ; y
 *   row: xor cx, cx                            ; x
 *   col: mov ax, cx / add ax, dx / shr ax, 1 / stosb
 *       inc cx / cmp cx, 320 / jb col
 *       inc dx / cmp dx, 200 / jb row
 *       xor bp, bp                             ; phase
 * frame: mov dx, 0x3c8 / xor al, al / out dx, al / inc dx / xor bx, bx
 *   pal: mov ax, bx / add ax, bp / call tri / out dx, al                        ; R = tri(i + phase)
 *       mov ax, bx / shl ax, 1 / add ax, bp / add ax, 40 / call tri / out dx, al ; G = tri(2i + phase + 40)
 *       mov ax, bx / add ax, ax / add ax, bx / sub ax, bp / call tri / out dx, al ; B = tri(3i − phase)
 *       inc bx / cmp bx, 256 / jb pal
 *       inc bp / cmp bp, 127 / jae done
 *       sti / hlt / jmp frame                  ; wait for the next timer tick
 *  done: cli / hlt / jmp done
 *   tri: test al, 64 / jz .up / not al         ; 0..63..0, period 128
 *   .up: and al, 63 / ret
 *       times 510-($-$$) db 0
 *       dw 0xaa55
 */
export function animatedBootSector(): Buffer {
  const code = Buffer.from(
    '31c08ed88ed0bc007cb81300cd10b800a08ec031ff31d231c989c801d0d1e8aa4181f9400172f24281fac80072e931edbac80330c0ee4231db89d801e8' +
      'e82f00ee89d8d1e001e883c028e82200ee89d801c001d829e8e81600ee4381fb000172d84583fd7f7304fbf4ebc5faf4ebfca8407402f6d0243fc3',
    'hex',
  );
  const sector = Buffer.alloc(512);
  code.copy(sector);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}
