/**
 * The trace viewer: one self-contained HTML file (styles, program and the trace itself inline;
 * no network, no server) that opens from disk, from Playwright's HTML report as an attachment, or
 * through `vnc-agent show-trace`. It reads only the trace file (format.ts), embedded as base64.
 */
import { readTrace } from '../read.js';
import { VIEWER_JS } from './app.js';
import { VIEWER_CSS } from './style.js';

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The viewer page for a trace file (the zip `TraceRecorder.finish()` returns). Throws VNCInputError for anything else. */
export function renderTraceViewer(traceZip: Buffer): string {
  const { trace } = readTrace(traceZip);
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Everything is inline; the policy makes sure nothing is fetched from anywhere.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(trace.title || 'VNC trace')} — VNC trace</title>`,
    `<style>${VIEWER_CSS}</style></head><body>`,
    '<header></header><ol id="actions"></ol><main></main>',
    '<footer><div id="timeline"></div><input id="scrub" type="range" min="0" value="0" aria-label="filmstrip"><div id="strip"></div></footer>',
    `<script type="application/octet-stream" id="vnc-trace-data">${traceZip.toString('base64')}</script>`,
    `<script>${VIEWER_JS}</script>`,
    '</body></html>',
  ].join('\n');
}
