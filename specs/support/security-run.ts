/**
 * Running RFBClient.start over a FakeTransport for the security-type specs: a whole server stream
 * delivered in every chunking, or an interactive test server that answers what the client writes.
 */
import { expect } from '@playwright/test';

import type { VNCError } from '../../src/errors.js';
import { RFBClient } from '../../src/rfb/client.js';
import type { Credentials } from '../../src/rfb/security/security.js';
import { chunkings, FakeTransport, hex, type Chunking } from './rfb-bytes.js';

export interface SecurityOutcome {
  transport: FakeTransport;
  client?: RFBClient;
  error?: unknown;
  escaped?: unknown;
}

/** Starts a client with `credentials` and delivers `chunks`; resolves once start() settled. */
export async function startWith(chunks: readonly Uint8Array[], credentials: Credentials, timeoutMs = 2000): Promise<SecurityOutcome> {
  const transport = new FakeTransport();
  const starting = RFBClient.start(transport, { credentials, timeoutMs });
  let escaped: unknown;
  try {
    transport.deliverChunks(chunks);
  } catch (error) {
    escaped = error;
  }
  try {
    return { transport, client: await starting, escaped };
  } catch (error) {
    return { transport, error, escaped };
  }
}

function summary(outcome: SecurityOutcome): unknown {
  const error = outcome.error as VNCError | undefined;
  return {
    written: hex(outcome.transport.writtenBytes),
    info: outcome.client?.info,
    error: error ? { class: error.constructor.name, code: error.code, message: error.message } : undefined,
  };
}

/** Runs `check` on a start fed `stream` in every chunking; every chunking must end as the whole stream does. */
export async function inEveryChunking(stream: Uint8Array, credentials: Credentials, check: (outcome: SecurityOutcome) => void): Promise<void> {
  let reference: unknown;
  let runs = 0;
  for (const { name, chunks } of chunkings(stream, { random: 4 })) {
    const outcome = await startWith(chunks, credentials);
    try {
      check(outcome);
      const current = summary(outcome);
      if (reference === undefined) reference = current;
      else expect(current, `chunking "${name}" ends differently from the whole stream`).toEqual(reference);
    } catch (error) {
      if (error instanceof Error) error.message = `[chunking: ${name}] ${error.message}`;
      throw error;
    } finally {
      await outcome.client?.close();
    }
    runs++;
  }
  expect(runs).toBeGreaterThan(2);
}

/**
 * A FakeTransport whose server reacts to the client's writes: `respond` sees every write in order
 * and returns bytes to deliver (or nothing). For exchanges where the server's bytes depend on the
 * client's (Diffie-Hellman, RSA).
 */
export class InteractiveTransport extends FakeTransport {
  private readonly respond: (written: Uint8Array) => Uint8Array | undefined;
  private readonly chunking: Chunking;

  /** `chunking`: how each reply is cut into data events (default whole). */
  constructor(respond: (written: Uint8Array) => Uint8Array | undefined, chunking: Chunking = 'whole') {
    super();
    this.respond = respond;
    this.chunking = chunking;
  }

  override write(bytes: Uint8Array): Promise<void> {
    const result = super.write(bytes);
    const reply = this.respond(new Uint8Array(bytes));
    if (reply && reply.length > 0) queueMicrotask(() => this.deliver(reply, this.chunking));
    return result;
  }
}
