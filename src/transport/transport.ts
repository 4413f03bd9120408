/**
 * A transport moves bytes between the client and a server. It knows nothing of RFB: a chunk it
 * delivers may hold part of a message, several messages, or anything in between.
 */
export interface TransportEvents {
  /** Bytes from the server, in order. The chunk is owned by the receiver from then on. */
  data(chunk: Uint8Array): void;
  /** The transport is closed; `error` says why when it was not closed by `close()`. */
  closed(error?: Error): void;
}

export interface Transport {
  /** Where this transport is connected, safe to print (no credentials, no query values). */
  readonly remote: string;
  /** Starts delivering events. Bytes that arrived before are delivered first. */
  start(events: TransportEvents): void;
  /** Queues bytes for sending, in order. Resolves when they have been handed to the OS. */
  write(bytes: Uint8Array): Promise<void>;
  /** Sends what is queued, then closes. Resolves when closed (bounded by `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
  /** Closes at once, dropping anything queued. */
  destroy(): void;
}

/** Opens transports: one call, one fresh connection (so a retry asks again). */
export interface TransportOpener {
  readonly remote: string;
  open(options: { timeoutMs: number; signal?: AbortSignal }): Promise<Transport>;
}
