/** The busy 1920×1080 desktop the benchmarks measure on. */
import { startXterm, type Xterm } from '../support/desktop.js';
import { showPhoto, type PhotoWindow } from '../support/photo.js';
import { delay, startProcess, stopProcess } from '../support/processes.js';
import type { XvncServer } from '../support/xvnc.js';

/** xterms full of (partly coloured) text, a photo-like picture and a ticking clock. */
export async function busyDesktop(server: XvncServer, dir: string): Promise<() => Promise<void>> {
  const feeds = [
    'ls -laR --color=always /usr/share | head -2000',
    'od -A x -t x1z /usr/bin/Xvnc | head -2000',
    'cat /usr/share/common-licenses/GPL-3',
    'ls -la --color=always /usr/bin /usr/lib | head -2000',
    'ps auxww; env; cat /usr/share/common-licenses/Apache-2.0',
  ];
  const places = ['+0+0', '+640+0', '+1280+0', '+0+540', '+640+540'];
  const xterms: Xterm[] = [];
  const stops: Array<() => Promise<void>> = [];
  for (const [i, feed] of feeds.entries()) {
    xterms.push(await startXterm(server, { geometry: `104x40${places[i]}`, command: ['sh', '-c', `${feed}; sleep 3600`] }));
  }
  stops.push(...xterms.map((xterm) => () => xterm.stop()));
  const photo: PhotoWindow = await showPhoto(server, dir, 640, 540, 1280, 540);
  stops.push(() => photo.stop());
  const clock = startProcess('xclock', ['-update', '1', '-geometry', '160x160+1740+20'], { env: server.env });
  stops.push(() => stopProcess(clock, 2000));
  await delay(1500);
  return async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
}

