/**
 * Fences (rfbproto "Fence" pseudo-encoding -312, message type 248 both ways). A fence asks the
 * other side to synchronise its processing with the stream; this client never asks, it only
 * answers the server's requests (TigerVNC measures the round trip with them and holds updates back
 * while answers are missing, and offers continuous updates only to clients that answer).
 */

/** The flag bits of a Fence message. */
export const FenceFlag = {
  /** Everything before the fence has taken effect before the answer is sent. */
  BlockBefore: 1 << 0,
  /** Nothing after the fence starts before the answer is sent. */
  BlockAfter: 1 << 1,
  /** The message after the fence is atomic with respect to the answer. */
  SyncNext: 1 << 2,
  /** A request that wants an answer (clear in the answer). */
  Request: 0x80000000,
} as const;

/**
 * What this client honours. It handles server messages one after another, synchronously, and
 * writes the answer before it reads the next message: BlockBefore and BlockAfter hold trivially.
 * SyncNext does not (input sent after the answer may reach the server before the next message is
 * read), so it is cleared, as the specification asks for flags not honoured.
 */
export const SUPPORTED_FENCE_FLAGS = FenceFlag.BlockBefore | FenceFlag.BlockAfter;

/** The flags of the answer to a fence request: the request's, without Request and what is not honoured. */
export function fenceAnswerFlags(requestFlags: number): number {
  return (requestFlags & SUPPORTED_FENCE_FLAGS) >>> 0;
}

/** Whether a server Fence with these flags is a request (to answer) rather than an answer. */
export function isFenceRequest(flags: number): boolean {
  return (flags & FenceFlag.Request) !== 0;
}
