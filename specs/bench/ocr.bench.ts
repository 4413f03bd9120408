/**
 * OCR figures (run with `VNC_BENCH=1 npx playwright test --project=bench specs/bench/ocr.bench.ts`;
 * not part of `npm test`). Asserts nothing about time or accuracy: prints, per test screen, the
 * engine alone (tesseract.js on the whole frame, enlarged 2×, sparse text) beside our pipeline
 * (text areas, per-area polarity and threshold, stacked mosaic, tolerant matching), then the
 * times and memory of issue 9's goals.
 *
 * locate = a known word looked up with findText (getByText's matching) and found with the middle
 * of a match inside the box where the X server drew it (text-screens.ts). buttons = the same for
 * button labels. false = matches of words from the other screens (not shown here) found in this
 * screen's window: what tolerant matching must not add.
 */
import { test } from '@playwright/test';
import { findText, TesseractEngine, TextReader, VNCAgentBridge, type OcrWord } from '../../src/index.js';
import { showKnownText, standardScreens, type Box, type KnownWord, type ShownWindow } from '../support/text-screens.js';
import { startXvnc } from '../support/xvnc.js';

test.describe.configure({ timeout: 900_000 });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function inside(point: { x: number; y: number }, box: Box, slack = 2): boolean {
  return point.x >= box.x - slack && point.x <= box.x + box.width + slack && point.y >= box.y - slack && point.y <= box.y + box.height + slack;
}

function located(words: readonly OcrWord[], known: KnownWord, tolerant = true): boolean {
  return findText(words, known.text, { tolerant }).some((m) => inside({ x: m.box.x + m.box.width / 2, y: m.box.y + m.box.height / 2 }, known.box));
}

interface Score {
  found: number;
  total: number;
  buttons: number;
  buttonTotal: number;
  falseMatches: number;
}

function score(words: readonly OcrWord[], window: ShownWindow, others: readonly KnownWord[], tolerant = true): Score {
  const inWindow = words.filter((w) => inside({ x: w.box.x + w.box.width / 2, y: w.box.y + w.box.height / 2 }, window.geometry, 0));
  const mine = new Set(window.words.map((w) => w.text.toLowerCase()));
  const foreign = [...new Set(others.map((w) => w.text).filter((t) => t.length >= 3 && ![...mine].some((m) => m.includes(t.toLowerCase()))))];
  return {
    found: window.words.filter((w) => located(words, w, tolerant)).length,
    total: window.words.length,
    buttons: window.words.filter((w) => w.button && located(words, w, tolerant)).length,
    buttonTotal: window.words.filter((w) => w.button).length,
    falseMatches: foreign.reduce((n, text) => n + findText(inWindow, text, { tolerant }).length, 0),
  };
}

const pct = (s: Score) => `${((100 * s.found) / s.total).toFixed(0)} % (${s.found}/${s.total})`;
const btn = (s: Score) => (s.buttonTotal ? `${s.buttons}/${s.buttonTotal}` : '–');

function row(cells: string[]): string {
  const widths = [30, 16, 8, 6, 16, 8, 6, 16, 6];
  return `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 10)).join(' | ')} |`;
}

test('OCR: engine alone vs pipeline on the standard screens; poll, first-read and memory figures', async () => {
  const server = await startXvnc({ geometry: '1920x1080' });
  const windows: { name: string; window: ShownWindow }[] = [];
  const vnc = new VNCAgentBridge({ host: server.host, port: server.port, timeoutMs: 60_000 });
  const engine = new TesseractEngine();
  const out: string[] = [];
  try {
    for (const { name, screen } of standardScreens(server)) windows.push({ name, window: await showKnownText(server, screen) });
    await vnc.connect();
    await vnc.screen.waitForStable({ stillMs: 500 });
    const frame = vnc.screen.capture();
    // For tuning without a desktop: OCR_DUMP=dir writes the frame (raw RGBA) and the truth (JSON).
    if (process.env.OCR_DUMP) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${process.env.OCR_DUMP}/frame.rgba`, frame.data);
      writeFileSync(`${process.env.OCR_DUMP}/truth.json`, JSON.stringify(windows.map(({ name, window }) => ({ name, geometry: window.geometry, words: window.words }))));
    }
    const rssBefore = process.memoryUsage().rss;

    const reader = new TextReader(new TesseractEngine());
    await reader.read(frame, { region: { x: 0, y: 0, width: 64, height: 64 } }); // loads the engine
    const loadedStats = { ...reader.stats };
    const pipelineStart = performance.now();
    const pipelineWords = await reader.read(frame);
    const pipelineMs = performance.now() - pipelineStart;
    const pipelineEngineMs = reader.stats.engineMs - loadedStats.engineMs;
    const rssOneEngine = process.memoryUsage().rss;

    const engineStart = performance.now();
    const engineWords = await engine.read(frame);
    const engineMs = performance.now() - engineStart;


    const all = windows.flatMap(({ window }) => window.words);
    out.push(row(['screen', 'engine locate', 'buttons', 'false', 'ours locate', 'buttons', 'false', 'ours, exact tier only', 'false']));
    out.push(row(['-', '-', '-', '-', '-', '-', '-', '-', '-'].map((d, i) => d.repeat([30, 16, 8, 6, 16, 8, 6, 16, 6][i]))));
    const totals = { engine: [0, 0, 0, 0], ours: [0, 0, 0, 0], strict: [0, 0, 0, 0] };
    for (const { name, window } of windows) {
      const others = all.filter((w) => !window.words.includes(w));
      const e = score(engineWords, window, others);
      const o = score(pipelineWords, window, others);
      const s = score(pipelineWords, window, others, false);
      for (const [key, sc] of [['engine', e], ['ours', o], ['strict', s]] as const) {
        totals[key][0] += sc.found;
        totals[key][1] += sc.total;
        totals[key][2] += sc.buttons;
        totals[key][3] += sc.buttonTotal;
      }
      out.push(row([name, pct(e), btn(e), String(e.falseMatches), pct(o), btn(o), String(o.falseMatches), pct(s), String(s.falseMatches)]));
      const missed = window.words.filter((w) => !located(pipelineWords, w)).map((w) => w.text);
      if (missed.length) out.push(`|   ours missed: ${missed.join(', ')}`);
    }
    const total = (t: number[]) => `${((100 * t[0]) / t[1]).toFixed(1)} % (${t[0]}/${t[1]})`;
    out.push(row(['all screens', total(totals.engine), `${totals.engine[2]}/${totals.engine[3]}`, '', total(totals.ours), `${totals.ours[2]}/${totals.ours[3]}`, '', total(totals.strict), '']));

    // Polling an unchanged screen: through the bridge (damage says nothing changed) and through
    // TextReader alone (one pixel comparison of the frame).
    await vnc.screen.words();
    const bridgePolls: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await vnc.screen.words();
      bridgePolls.push(performance.now() - t);
    }
    const readerPolls: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await reader.read(frame);
      readerPolls.push(performance.now() - t);
    }

    // First read of a 400×120 region (engine loaded, nothing cached), a fresh reader each time.
    const question = windows.find((w) => w.name === 'GTK question')!.window.geometry;
    const region = { x: question.x, y: question.y, width: 400, height: 120 };
    const regionTimes: number[] = [];
    const regionEngine: number[] = [];
    const regionEngineAlone: number[] = [];
    const warm = new TesseractEngine();
    const warmReader = new TextReader(warm, { closeEngine: false });
    await warm.read(frame, { region: { x: 0, y: 0, width: 32, height: 32 } });
    for (let i = 0; i < 5; i++) {
      warmReader.clear();
      const before = warmReader.stats.engineMs;
      const t = performance.now();
      await warmReader.read(frame, { region });
      regionTimes.push(performance.now() - t);
      regionEngine.push(warmReader.stats.engineMs - before);
      const t2 = performance.now();
      await warm.read(frame, { region });
      regionEngineAlone.push(performance.now() - t2);
    }
    const fullTimes: number[] = [];
    const fullEngine: number[] = [];
    for (let i = 0; i < 3; i++) {
      warmReader.clear();
      const before = warmReader.stats.engineMs;
      const t = performance.now();
      await warmReader.read(frame);
      fullTimes.push(performance.now() - t);
      fullEngine.push(warmReader.stats.engineMs - before);
    }
    const rss = process.memoryUsage().rss;
    await warmReader.close();
    await warm.close();
    await reader.close();

    out.push('');
    out.push(`| figure | ours | engine alone | goal |`);
    out.push(`|---|---|---|---|`);
    out.push(`| poll, unchanged 1080p, screen.words() (median of 20) | ${median(bridgePolls).toFixed(2)} ms | – | ≤ 5 ms |`);
    out.push(`| poll, unchanged 1080p, TextReader.read(frame) (median of 20) | ${median(readerPolls).toFixed(2)} ms | ${engineMs.toFixed(0)} ms (reads again) | ≤ 5 ms |`);
    out.push(`| first read of a 400×120 region (median of 5; engine's share) | ${median(regionTimes).toFixed(0)} ms (${median(regionEngine).toFixed(0)} ms) | ${median(regionEngineAlone).toFixed(0)} ms | ≤ 150 ms |`);
    out.push(`| first read of the sparse 1080p desktop (median of 3; engine's share) | ${median(fullTimes).toFixed(0)} ms (${median(fullEngine).toFixed(0)} ms) | ${engineMs.toFixed(0)} ms | ≤ 1000 ms |`);
    out.push(`| same, the very first read (pipeline; engine's share) | ${pipelineMs.toFixed(0)} ms (${pipelineEngineMs.toFixed(0)} ms) | – | – |`);
    out.push(`| RSS, one connection's engine loaded and used (process, MiB; before loading) | ${(rssOneEngine / 2 ** 20).toFixed(0)} (${(rssBefore / 2 ** 20).toFixed(0)}) | – | ≤ 500 MiB |`);
    out.push(`| RSS with three engines loaded (MiB) | ${(rss / 2 ** 20).toFixed(0)} | – | – |`);
    out.push(`| load average during the run | ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} | | |`);
    console.log(`\nOCR on the standard screens (1920×1080 Xvnc)\n${out.join('\n')}\n`);
  } finally {
    console.log(out.join('\n'));
    await engine.close();
    await vnc.disconnect().catch(() => undefined);
    for (const { window } of windows) await window.stop();
    await server.stop();
  }
});
