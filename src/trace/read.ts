/** Reads a trace file (format.ts) back: its trace.json, checked, and its frames. */
import { VNCInputError } from '../errors.js';
import { FRAMES_FOLDER, TRACE_FORMAT, TRACE_JSON, TRACE_VERSION, type TraceFile } from './format.js';
import { readZip } from './zip.js';

export interface LoadedTrace {
  trace: TraceFile;
  /** PNG bytes by frame id. */
  frames: Map<string, Buffer>;
}

export function readTrace(data: Buffer): LoadedTrace {
  const entries = readZip(data);
  const json = entries.find((entry) => entry.name === TRACE_JSON);
  if (!json) throw new VNCInputError(`This zip is not a VNC trace: it has no ${TRACE_JSON}. Pass the vnc-trace.zip a test run wrote.`);
  let trace: TraceFile;
  try {
    trace = JSON.parse(json.body.toString('utf8')) as TraceFile;
  } catch (error) {
    throw new VNCInputError(`The trace's ${TRACE_JSON} is not valid JSON (${(error as Error).message}); the file is damaged.`);
  }
  if (trace?.format !== TRACE_FORMAT) throw new VNCInputError(`This zip is not a VNC trace: ${TRACE_JSON} does not say format "${TRACE_FORMAT}".`);
  if (trace.version !== TRACE_VERSION) {
    throw new VNCInputError(`This trace is format version ${String(trace.version)}; this vnc-agent-bridge reads version ${TRACE_VERSION}. Open it with the version that wrote it.`);
  }
  const frames = new Map<string, Buffer>();
  for (const entry of entries) {
    if (entry.name.startsWith(FRAMES_FOLDER) && entry.name.endsWith('.png')) frames.set(entry.name.slice(FRAMES_FOLDER.length, -4), entry.body);
  }
  return { trace, frames };
}
