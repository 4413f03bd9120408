/** Failures that only the TCP transport sees: nothing listening, a server that never speaks. */
import { createServer, type Server } from 'node:net';
import { expect, test } from '@playwright/test';
import { VNCAgentBridge, VNCConnectionError, VNCTimeoutError } from '../../src/index.js';
import { freePort } from '../support/processes.js';

test('nothing listening: VNCConnectionError saying the connection was refused', async () => {
  const port = await freePort();
  const error = await new VNCAgentBridge({ host: '127.0.0.1', port, timeoutMs: 3000 }).connect().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(VNCConnectionError);
  expect((error as Error).message).toContain('refused');
});

test('a server that never speaks: VNCTimeoutError within the timeout', async () => {
  const silent: Server = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  const started = Date.now();
  const error = await new VNCAgentBridge({ host: '127.0.0.1', port, timeoutMs: 500 }).connect().catch((e: unknown) => e);
  const elapsed = Date.now() - started;
  silent.close();
  expect(error).toBeInstanceOf(VNCTimeoutError);
  expect(elapsed).toBeLessThan(3000);
});

