/** The viewer's stylesheet (inlined into the HTML: the file must work with no network). */
export const VIEWER_CSS = `
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 13px/1.4 system-ui, sans-serif; color: #1f2328; background: #f6f8fa; }
body { display: grid; grid-template-rows: auto 1fr auto; grid-template-columns: 340px 1fr; grid-template-areas: "head head" "list main" "foot foot"; }
header { grid-area: head; padding: 8px 12px; background: #24292f; color: #fff; display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 15px; margin: 0; }
header .status-failed, header .status-timedOut, header .status-interrupted { color: #ff8182; font-weight: bold; }
header .status-passed { color: #7ee787; font-weight: bold; }
header .muted { color: #afb8c1; }
#actions { grid-area: list; margin: 0; padding: 0; list-style: none; overflow: auto; border-right: 1px solid #d0d7de; background: #fff; }
#actions li { padding: 4px 8px; border-bottom: 1px solid #eaeef2; cursor: pointer; display: flex; gap: 6px; align-items: baseline; }
#actions li .title { flex: 1; font-family: ui-monospace, monospace; word-break: break-all; }
#actions li .time { color: #656d76; font-size: 11px; white-space: nowrap; }
#actions li.failed .title { color: #cf222e; }
#actions li.failed .title::before { content: "✘ "; }
#actions li.selected { background: #ddf4ff; }
#actions li.nested { padding-left: 24px; }
main { grid-area: main; overflow: auto; padding: 12px; }
.shots { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
figure { margin: 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
.shot { position: relative; display: block; border: 1px solid #d0d7de; background: #000; cursor: zoom-in; }
figure.zoomed { grid-column: 1 / -1; overflow: auto; max-height: 85vh; }
figure.zoomed .shot { width: max-content; cursor: zoom-out; }
figure.zoomed .shot img { width: auto; max-width: none; }
.shot img { display: block; width: 100%; height: auto; image-rendering: pixelated; }
.shot svg { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
.shot .empty { color: #afb8c1; padding: 24px; text-align: center; }
.marker { fill: rgba(255, 40, 40, 0.35); stroke: #ff2828; stroke-width: 3; vector-effect: non-scaling-stroke; }
.drag { stroke: #ff2828; stroke-width: 3; vector-effect: non-scaling-stroke; marker-end: url(#arrow); }
.box { fill: rgba(9, 105, 218, 0.12); stroke: #0969da; stroke-width: 2; vector-effect: non-scaling-stroke; }
.pointer { fill: none; stroke: #bf8700; stroke-width: 2; vector-effect: non-scaling-stroke; stroke-dasharray: 4 3; }
#error, #test-error { white-space: pre-wrap; font-family: ui-monospace, monospace; background: #ffebe9; border: 1px solid #ff8182; padding: 8px; margin: 12px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 12px 0; }
dl.facts dt { color: #656d76; }
dl.facts dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
.expectation { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin-top: 12px; }
footer { grid-area: foot; border-top: 1px solid #d0d7de; background: #fff; padding: 6px 12px; }
#timeline { position: relative; height: 18px; background: #eaeef2; margin-bottom: 4px; cursor: pointer; }
#timeline .bar { position: absolute; top: 2px; height: 14px; min-width: 2px; background: #54aeff; }
#timeline .bar.failed { background: #ff8182; }
#timeline .bar.selected { outline: 2px solid #0969da; }
#timeline .cursor { position: absolute; top: 0; bottom: 0; width: 2px; background: #cf222e; }
#scrub { width: 100%; }
#strip { display: flex; gap: 4px; overflow-x: auto; padding-top: 4px; }
#strip img { height: 56px; border: 2px solid transparent; cursor: pointer; }
#strip img.current { border-color: #cf222e; }
.hint { color: #656d76; font-size: 11px; }
`;
