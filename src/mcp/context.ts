/**
 * The state every tool shares: the targets, the one in use, its connection (kept open between
 * calls and made again after a loss, the provider asked again), and how the last screenshot maps
 * to the screen. Masks secrets in everything that leaves the server.
 */
import { VNCInputError, VNCStateError, type Point, type Rect, type VNCAgentBridge } from '../index.js';
import { mappingFor, type ScreenMapping } from './image.js';
import type { McpLogger, McpSettings, McpTarget } from './types.js';

/** The secret-free text of an error: its class, code and message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === 'string' ? ` (${code})` : ''}: ${error.message}`;
  }
  return String(error);
}

interface TargetState {
  target: McpTarget;
  bridge: VNCAgentBridge | undefined;
  /** Connections made so far (the provider's `attempt`). */
  attempts: number;
  /** Why the last connection ended, until the next call reports it. */
  lost: string | undefined;
  /** The last screenshot's geometry: coordinates are in its space. */
  mapping: ScreenMapping | undefined;
  secrets: Set<string>;
  /** A connection under way, shared by calls that arrive meanwhile. */
  connecting: Promise<VNCAgentBridge> | undefined;
}

export class McpContext {
  readonly settings: McpSettings;
  private readonly states: TargetState[];
  private current: TargetState;
  private readonly secrets: string[];
  private readonly logger: McpLogger;
  /** Notes for the next tool result (a reconnection and why). */
  private notes: string[] = [];
  private closed = false;
  /** Bridges whose pointer a tool has put somewhere (VNC servers do not report it). */
  private readonly pointers = new WeakSet<VNCAgentBridge>();

  constructor(targets: readonly McpTarget[], settings: McpSettings, options: { secrets?: readonly (string | undefined)[]; log?: McpLogger } = {}) {
    if (targets.length === 0) throw new VNCInputError('The MCP server needs at least one target.');
    this.settings = settings;
    this.states = targets.map((target) => ({ target, bridge: undefined, attempts: 0, lost: undefined, mapping: undefined, secrets: new Set<string>(), connecting: undefined }));
    this.current = this.states[0];
    this.secrets = options.secrets?.filter((secret): secret is string => !!secret) ?? [];
    this.logger = options.log ?? (() => undefined);
  }

  get targets(): readonly McpTarget[] {
    return this.states.map((state) => state.target);
  }

  get target(): McpTarget {
    return this.current.target;
  }

  /** Whether the target in use has an open connection. */
  isConnected(name = this.current.target.name): boolean {
    return this.states.find((state) => state.target.name === name)?.bridge?.isConnected ?? false;
  }

  /** Makes `name` the target later calls act on. */
  useTarget(name: string): McpTarget {
    const state = this.states.find((candidate) => candidate.target.name === name);
    if (!state) {
      throw new VNCInputError(`Unknown target ${JSON.stringify(name)}: the targets are ${this.states.map((candidate) => candidate.target.name).join(', ')} (list_targets describes them).`);
    }
    this.current = state;
    return state.target;
  }

  /** The connected bridge of the target in use: connects on first use and again after a loss. */
  bridge(): Promise<VNCAgentBridge> {
    const state = this.current;
    if (state.bridge?.isConnected) return Promise.resolve(state.bridge);
    state.connecting ??= this.reconnect(state).finally(() => {
      state.connecting = undefined;
    });
    return state.connecting;
  }

  private async reconnect(state: TargetState): Promise<VNCAgentBridge> {
    if (this.closed) throw new VNCStateError('The MCP server is shutting down.');
    const previous = state.bridge;
    if (previous) {
      state.lost ??= 'the server closed the connection';
      state.bridge = undefined;
      await previous.disconnect().catch(() => undefined);
    }
    const attempt = state.attempts++;
    const connected = await state.target.connect(attempt);
    for (const secret of connected.secrets) state.secrets.add(secret);
    if (this.closed) {
      await connected.bridge.disconnect().catch(() => undefined);
      throw new VNCStateError('The MCP server is shutting down.');
    }
    state.bridge = connected.bridge;
    const session = connected.bridge.session();
    session.once('closed', (error?: unknown) => {
      if (state.bridge === connected.bridge) state.lost = error === undefined ? 'the connection was closed' : describeError(error);
    });
    const { width, height } = connected.bridge.info;
    if (state.lost !== undefined) {
      this.notes.push(`Reconnected to ${state.target.name} (${width}x${height}); the previous connection was lost: ${state.lost}`);
      this.log(`${state.target.name}: reconnected after: ${state.lost}`);
      state.lost = undefined;
    }
    return connected.bridge;
  }

  /** Why the connection of the target in use was lost, while it has not been made again. */
  lostReason(): string | undefined {
    const { bridge, lost } = this.current;
    if (bridge?.isConnected) return undefined;
    return lost ?? (bridge ? 'the connection was closed' : undefined);
  }

  /** Notes for the result being built, once. */
  takeNotes(): string[] {
    const notes = this.notes;
    this.notes = [];
    return notes;
  }

  /** Where screenshots of the current screen are shown; remembered as the space coordinates use. */
  rememberMapping(mapping: ScreenMapping): void {
    this.current.mapping = mapping;
  }

  /**
   * The mapping coordinates are in: the last screenshot's, or what a screenshot of this screen
   * would be. When the screen changed size since the last screenshot, coordinates taken from it
   * may point elsewhere: a VNCInputError asks for a new screenshot.
   */
  mapping(bridge: VNCAgentBridge): ScreenMapping {
    const { width, height } = bridge.screen;
    const last = this.current.mapping;
    if (!last) return mappingFor(width, height, this.settings.maxSize);
    if (last.screenWidth !== width || last.screenHeight !== height) {
      throw new VNCInputError(
        `The screen changed size from ${last.screenWidth}x${last.screenHeight} to ${width}x${height} since the last screenshot, so its coordinates may point elsewhere: take a screenshot and use its coordinates.`,
      );
    }
    return last;
  }

  /** A point in screenshot space, checked, as a point on the real screen. */
  toScreen(bridge: VNCAgentBridge, x: number, y: number, what = 'x, y'): Point {
    const mapping = this.mapping(bridge);
    if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= mapping.width || y >= mapping.height) {
      throw new VNCInputError(
        `${what} = (${x}, ${y}) is outside the screenshot: coordinates are in the space of the last screenshot (${mapping.width}x${mapping.height}), whole numbers with 0 ≤ x < ${mapping.width} and 0 ≤ y < ${mapping.height}.`,
      );
    }
    return {
      x: Math.min(mapping.screenWidth - 1, Math.round((x * mapping.screenWidth) / mapping.width)),
      y: Math.min(mapping.screenHeight - 1, Math.round((y * mapping.screenHeight) / mapping.height)),
    };
  }

  /** A region in screenshot space, checked, as a region of the real screen (covering every screen pixel it shows). */
  regionToScreen(bridge: VNCAgentBridge, region: Rect): Rect {
    const mapping = this.mapping(bridge);
    const { x, y, width, height } = region;
    const whole = [x, y, width, height].every((value) => Number.isInteger(value) && value >= 0);
    if (!whole || width === 0 || height === 0 || x + width > mapping.width || y + height > mapping.height) {
      throw new VNCInputError(
        `Region x=${x} y=${y} width=${width} height=${height} is not inside the screenshot: regions are in the space of the last screenshot (${mapping.width}x${mapping.height}), whole numbers with width and height > 0, x + width ≤ ${mapping.width}, y + height ≤ ${mapping.height}.`,
      );
    }
    const left = Math.floor((x * mapping.screenWidth) / mapping.width);
    const top = Math.floor((y * mapping.screenHeight) / mapping.height);
    const right = Math.min(mapping.screenWidth, Math.ceil(((x + width) * mapping.screenWidth) / mapping.width));
    const bottom = Math.min(mapping.screenHeight, Math.ceil(((y + height) * mapping.screenHeight) / mapping.height));
    return { x: left, y: top, width: right - left, height: bottom - top };
  }

  /** A box on the real screen, in screenshot space (at least one pixel). */
  boxFromScreen(bridge: VNCAgentBridge, box: Rect): Rect {
    const mapping = this.mapping(bridge);
    const sx = mapping.width / mapping.screenWidth;
    const sy = mapping.height / mapping.screenHeight;
    const x = Math.floor(box.x * sx);
    const y = Math.floor(box.y * sy);
    return { x, y, width: Math.max(1, Math.ceil((box.x + box.width) * sx) - x), height: Math.max(1, Math.ceil((box.y + box.height) * sy) - y) };
  }

  /** A point on the real screen, in screenshot space. */
  fromScreen(bridge: VNCAgentBridge, point: Point): Point {
    const mapping = this.mapping(bridge);
    return {
      x: Math.min(mapping.width - 1, Math.round((point.x * mapping.width) / mapping.screenWidth)),
      y: Math.min(mapping.height - 1, Math.round((point.y * mapping.height) / mapping.screenHeight)),
    };
  }

  /** Notes that a tool put the pointer somewhere on `bridge`. */
  notePointer(bridge: VNCAgentBridge): void {
    this.pointers.add(bridge);
  }

  pointerKnown(bridge: VNCAgentBridge): boolean {
    return this.pointers.has(bridge);
  }

  /** `text` with every known secret replaced by ***. */
  redact(text: string): string {
    // Shorter values would mask ordinary words.
    const secrets = [...new Set([...this.secrets, ...this.states.flatMap((state) => [...state.secrets])])]
      .filter((secret) => secret.length >= 3)
      .flatMap((secret) => [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')])
      .sort((a, b) => b.length - a.length);
    return secrets.reduce((masked, secret) => masked.split(secret).join('***'), text);
  }

  /** One line on stderr, masked. */
  log(line: string): void {
    this.logger(this.redact(line.replace(/\s*\n\s*/g, ' ')));
  }

  /** Disconnects every target and stops what was launched for them. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.states.map(async (state) => {
        await state.bridge?.disconnect().catch(() => undefined);
        state.bridge = undefined;
        await state.target.close?.().catch(() => undefined);
      }),
    );
  }
}
