/** The VNC trace: a recorder that writes the trace file, and a viewer that only reads it. */
export { TraceRecorder, type TraceRecorderOptions, type ExpectationOutcome } from './recorder.js';
export { readTrace, type LoadedTrace } from './read.js';
export { renderTraceViewer } from './viewer/html.js';
export * from './format.js';
