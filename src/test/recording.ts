/**
 * What `vncTrace` records: a full-size PNG after each step, and a downscaled animated PNG of the
 * whole test sampled from screen updates. Memory is bounded: frames are capped in count and size.
 */
import type { TestInfo } from '@playwright/test';
import { encodeApng } from '../bridge/apng.js';
import type { VNCAgentBridge } from '../bridge/bridge.js';
import { encodePng } from '../bridge/png.js';
import type { Frame, Rect } from '../rfb/framebuffer.js';

const MAX_STEP_FRAMES = 200;
const MAX_MOVIE_FRAMES = 300;
const MOVIE_WIDTH = 640;
const MOVIE_INTERVAL_MS = 250;

/** Nearest-neighbour downscale to at most `maxWidth` pixels wide. */
export function downscale(frame: Frame, maxWidth: number): Frame {
  if (frame.width <= maxWidth) return frame;
  const width = maxWidth;
  const height = Math.max(1, Math.round((frame.height * maxWidth) / frame.width));
  const data = Buffer.allocUnsafe(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sourceRow = Math.floor((y * frame.height) / height) * frame.width;
    for (let x = 0; x < width; x++) {
      frame.data.copy(data, (y * width + x) * 4, (sourceRow + Math.floor((x * frame.width) / width)) * 4, (sourceRow + Math.floor((x * frame.width) / width)) * 4 + 4);
    }
  }
  return { width, height, data };
}

function safeName(title: string): string {
  return title.replace(/[^\w.-]+/g, '_').slice(0, 60);
}

export class ScreenRecorder {
  private readonly bridge: VNCAgentBridge;
  private readonly steps: { title: string; png: Buffer }[] = [];
  private readonly movie: { frame: Frame; at: number }[] = [];
  private lastSample = 0;
  private pending: NodeJS.Timeout | undefined;
  private readonly onUpdate = (_rects: Rect[]) => this.sampleSoon();

  constructor(bridge: VNCAgentBridge) {
    this.bridge = bridge;
  }

  start(): void {
    this.sample();
    this.bridge.session().on('update', this.onUpdate);
  }

  stop(): void {
    clearTimeout(this.pending);
    if (this.bridge.isConnected) this.bridge.session().off('update', this.onUpdate);
  }

  /** Records the screen as it is after a step. */
  step(title: string): void {
    if (!this.bridge.isConnected || this.steps.length >= MAX_STEP_FRAMES) return;
    this.steps.push({ title, png: encodePng(this.bridge.screen.capture()) });
    this.sample();
  }

  private sampleSoon(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.lastSample + MOVIE_INTERVAL_MS - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.sample();
    }, wait);
    this.pending.unref();
  }

  private sample(): void {
    if (!this.bridge.isConnected || this.movie.length >= MAX_MOVIE_FRAMES) return;
    this.lastSample = Date.now();
    this.movie.push({ frame: downscale(this.bridge.screen.capture(), MOVIE_WIDTH), at: this.lastSample });
  }

  /** Attaches the step frames and the recording to the test. */
  async attachTo(testInfo: TestInfo): Promise<void> {
    this.sample();
    for (const [index, { title, png }] of this.steps.entries()) {
      await testInfo.attach(`step-${String(index + 1).padStart(3, '0')}-${safeName(title)}.png`, { body: png, contentType: 'image/png' });
    }
    const frames = this.movie.filter(({ frame }) => frame.width === this.movie[0]?.frame.width && frame.height === this.movie[0]?.frame.height);
    if (frames.length === 0) return;
    const delays = frames.map(({ at }, i) => Math.max(20, (frames[i + 1]?.at ?? at + 1000) - at));
    await testInfo.attach('recording.apng', { body: encodeApng(frames.map(({ frame }) => frame), delays), contentType: 'image/apng' });
  }
}
