/**
 * A tiny Linux VM under QEMU (TCG): Debian's kernel (`linux-image-amd64`) and an initramfs built at
 * test time from `busybox-static` — the Proxmox-like target: a VM console, not an X desktop.
 *
 * The guest loads a console keymap (`us`, `de`, … compiled from Debian's console-data with
 * `loadkeys -b -u`, read by busybox `loadkmap`), prints `GUEST-READY kmap=NAME` on its serial port,
 * and runs a shell whose input is the VGA console (tty1, its controlling terminal) and whose output
 * goes through a pipe (so the shell is not interactive: no prompt, no line editor, the kernel's
 * line discipline and keymap decide what arrives) to the serial port, which QEMU writes to a file. What a test types on the console therefore
 * lands in that file: type `cat` + Enter first for a byte-for-byte sink (Ctrl+D ends it), or type
 * commands. Ctrl+C interrupts the foreground command and ends that shell (it is not interactive);
 * init prints `GUEST-SHELL-EXIT <status>` and starts a new one.
 *
 * With `mode: 'sink'` the console is a bare `cat` into the serial file from the start (no shell).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, runChecked } from './processes.js';
import { startQemu, type QemuServer } from './qemu.js';

export interface LinuxGuestOptions {
  /**
   * Console keymap the guest loads: a console-data name (`us`, `de`, `fr`, `uk`, …), or `xkb-LAYOUT`
   * (`xkb-de`, `xkb-fr`, …) for the console keymap Debian's console-setup makes from the xkb layout
   * (`ckbcomp`, package console-setup): what a Debian VM configured for that layout has. Default `us`.
   */
  keymap?: string;
  /** `shell` (default): a shell reads the console, output to serial. `sink`: the console is copied to serial. */
  mode?: 'shell' | 'sink';
  /** VNC password (≤ 8 characters) set on QEMU's monitor. */
  password?: string;
  /** Start-up limit including the boot, default 90 s (TCG on a loaded 2-core machine). */
  timeoutMs?: number;
}

export interface LinuxGuest {
  /** QEMU's VNC server (TCP port, WebSocket URL, monitor). */
  qemu: QemuServer;
  keymap: string;
  /** Path of the file QEMU writes the guest's serial port to. */
  serialPath: string;
  /** Everything the guest wrote to its serial port so far (UTF-8). */
  serial(): string;
  /** Serial output after the boot marker (what the shell or the sink printed). */
  output(): string;
  /** Resolves with `output()` once `match` appears in it; rejects after `timeoutMs` with what was there. */
  waitForOutput(match: string | RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

const READY = 'GUEST-READY';

/** The newest installed Debian kernel image (from linux-image-amd64). */
export function findKernel(): string {
  const kernels = existsSync('/boot') ? readdirSync('/boot').filter((name) => /^vmlinuz-/.test(name)).sort() : [];
  if (kernels.length === 0) throw new Error('linux-guest: no /boot/vmlinuz-* (install the Debian package linux-image-amd64)');
  return join('/boot', kernels[kernels.length - 1]);
}

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# The session leader opens tty1 itself (exec <), so tty1 becomes its controlling terminal and
# Ctrl+C typed on the console interrupts what runs there.
kmap=us
mode=shell
for arg in $(cat /proc/cmdline); do
  case "$arg" in kmap=*) kmap="\${arg#kmap=}";; guestmode=*) mode="\${arg#guestmode=}";; esac
done
loadkmap < "/keymaps/$kmap.bmap" || echo "GUEST-KEYMAP-FAILED $kmap" > /dev/ttyS0
stty -F /dev/tty1 iutf8
echo "${READY} kmap=$kmap" > /dev/ttyS0
while true; do
  if [ "$mode" = sink ]; then
    setsid sh -c 'exec </dev/tty1; exec cat >/dev/ttyS0'
  else
    setsid sh -c 'exec </dev/tty1; sh 2>&1 | cat >/dev/ttyS0'
  fi
  echo "GUEST-SHELL-EXIT $?" > /dev/ttyS0
done
`;

const images = new Map<string, Promise<string>>();

/** Builds (once per process and keymap) an initramfs with busybox, the keymap and the init above. */
function initramfs(keymap: string): Promise<string> {
  let image = images.get(keymap);
  if (!image) {
    image = buildInitramfs(keymap);
    images.set(keymap, image);
  }
  return image;
}

async function buildInitramfs(keymap: string): Promise<string> {
  if (!/^[\w.-]+$/.test(keymap)) throw new Error(`linux-guest: keymap ${JSON.stringify(keymap)} is not a console-data keymap name`);
  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-guest-'));
  const root = join(dir, 'root');
  for (const sub of ['bin', 'proc', 'sys', 'dev', 'keymaps']) await mkdir(join(root, sub), { recursive: true });
  if (!existsSync('/bin/busybox') && !existsSync('/usr/bin/busybox')) throw new Error('linux-guest: no busybox (install the Debian package busybox-static)');
  await copyFile(existsSync('/bin/busybox') ? '/bin/busybox' : '/usr/bin/busybox', join(root, 'bin', 'busybox'));
  const compiled = keymap.startsWith('xkb-')
    ? await runChecked('sh', ['-c', `ckbcomp -model pc105 "${keymap.slice(4)}" | loadkeys -b -u`], { timeoutMs: 20_000 })
    : await runChecked('loadkeys', ['-b', '-u', keymap], { timeoutMs: 20_000 });
  await writeFile(join(root, 'keymaps', `${keymap}.bmap`), compiled.stdoutBuffer);
  await writeFile(join(root, 'init'), INIT);
  await chmod(join(root, 'init'), 0o755);
  const image = join(dir, 'initrd.cpio.gz');
  await runChecked('sh', ['-c', `cd "${root}" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "${image}"`], { timeoutMs: 30_000 });
  return image;
}

/** Boots the guest and resolves once it printed its ready marker (keymap loaded, console read). */
export async function startLinuxGuest(options: LinuxGuestOptions = {}): Promise<LinuxGuest> {
  const keymap = options.keymap ?? 'us';
  const mode = options.mode ?? 'shell';
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  const image = await initramfs(keymap);
  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-guest-run-'));
  const serialPath = join(dir, 'serial.log');
  const qemu = await startQemu({
    password: options.password,
    timeoutMs: Math.max(5_000, deadline - Date.now()),
    extraArgs: [
      '-m', '256',
      '-kernel', findKernel(),
      '-initrd', image,
      '-append', `console=tty1 quiet loglevel=0 mitigations=off kmap=${keymap} guestmode=${mode}`,
      '-serial', `file:${serialPath}`,
    ],
  });
  const serial = (): string => (existsSync(serialPath) ? readFileSync(serialPath).toString('utf8') : '');
  const output = (): string => {
    const text = serial();
    const start = text.indexOf(READY);
    if (start < 0) return '';
    const lineEnd = text.indexOf('\n', start);
    return lineEnd < 0 ? '' : text.slice(lineEnd + 1);
  };
  const stop = async (): Promise<void> => {
    await qemu.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const waitForOutput = async (match: string | RegExp, waitMs = 10_000): Promise<string> => {
    const until = Date.now() + waitMs;
    for (;;) {
      const text = output();
      if (typeof match === 'string' ? text.includes(match) : match.test(text)) return text;
      if (Date.now() > until) throw new Error(`linux-guest: ${String(match)} not in the serial output within ${waitMs} ms; got ${JSON.stringify(text.slice(-500))}`);
      await delay(50);
    }
  };
  try {
    for (;;) {
      const text = serial();
      if (text.includes('GUEST-KEYMAP-FAILED')) throw new Error(`linux-guest: the guest could not load keymap ${keymap}`);
      if (text.includes(READY)) break;
      if (Date.now() > deadline) throw new Error(`linux-guest: no ${READY} on the serial port within ${timeoutMs} ms; serial: ${JSON.stringify(text.slice(-500))}; QEMU: ${qemu.log().slice(-500)}`);
      await delay(100);
    }
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return { qemu, keymap, serialPath, serial, output, waitForOutput, stop };
}
