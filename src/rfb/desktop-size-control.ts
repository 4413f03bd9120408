/**
 * The client's side of resizing the remote desktop (rfbproto SetDesktopSize + ExtendedDesktopSize):
 * knows whether the server supports it (it sent an ExtendedDesktopSize rectangle), keeps the
 * server's last screen layout, and settles one request at a time from the server's answer.
 */
import { VNCError, VNCInputError, VNCStateError, VNCTimeoutError } from '../errors.js';
import { setDesktopSize } from './client-messages.js';
import { Limits } from './constants.js';
import { DesktopSizeReason, DesktopSizeStatus, desktopSizeStatusText, type DesktopScreen } from './encodings/desktop-size.js';
import type { ExtendedDesktopSizeChange } from './server-messages.js';

interface Pending {
  width: number;
  height: number;
  forwarded: boolean;
  resolve(): void;
  reject(error: VNCError): void;
  timer: NodeJS.Timeout;
}

export class DesktopSizeControl {
  /** The server's screen layout, once it announced one (its support for SetDesktopSize). */
  private screens: DesktopScreen[] | undefined;
  private pending: Pending | undefined;
  private readonly send: (bytes: Uint8Array) => Promise<void>;
  private readonly remote: string;

  constructor(send: (bytes: Uint8Array) => Promise<void>, remote: string) {
    this.send = send;
    this.remote = remote;
  }

  /** Whether the server announced ExtendedDesktopSize, so SetDesktopSize may be sent. */
  get supported(): boolean {
    return this.screens !== undefined;
  }

  /** An ExtendedDesktopSize rectangle arrived (after the framebuffer was resized, if it was). */
  changed(change: ExtendedDesktopSizeChange): void {
    if (change.status === DesktopSizeStatus.Ok) this.screens = change.screens;
    else this.screens ??= change.screens;
    const pending = this.pending;
    if (!pending || change.reason !== DesktopSizeReason.ThisClient) return;
    if (change.status === DesktopSizeStatus.Forwarded) {
      pending.forwarded = true;
      return;
    }
    if (change.status === DesktopSizeStatus.Ok) {
      if (change.width === pending.width && change.height === pending.height) this.settle();
      else this.settle(new VNCInputError(`${this.remote} accepted the resize to ${pending.width}x${pending.height} but made the desktop ${change.width}x${change.height}.`));
      return;
    }
    this.settle(
      new VNCInputError(`${this.remote} refused to resize the desktop to ${pending.width}x${pending.height}: ${desktopSizeStatusText(change.status)}.`),
    );
  }

  /** The framebuffer now has this size (any cause): completes a request the server forwarded. */
  resized(width: number, height: number): void {
    const pending = this.pending;
    if (pending?.forwarded && pending.width === width && pending.height === height) this.settle();
  }

  /** The session ended: a pending request fails with why. */
  closed(error: VNCError): void {
    this.settle(error);
  }

  /**
   * Asks the server for a `width`×`height` desktop (one screen filling it) and resolves once the
   * framebuffer has that size; rejects with the server's reason, or after `timeoutMs`.
   */
  request(width: number, height: number, current: { width: number; height: number }, timeoutMs: number): Promise<void> {
    const side = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= Limits.maxFramebufferSide;
    if (!side(width) || !side(height)) {
      return Promise.reject(
        new VNCInputError(`setSize(${JSON.stringify(width)}, ${JSON.stringify(height)}): width and height must be whole numbers from 1 to ${Limits.maxFramebufferSide}.`),
      );
    }
    const screens = this.screens;
    if (!screens) {
      return Promise.reject(
        new VNCInputError(
          `${this.remote} does not let clients resize its desktop: it never announced ExtendedDesktopSize (TigerVNC, QEMU and x11vnc do; TightVNC 1.3 and wayvnc 0.5 do not). Set the size on the server (e.g. Xvnc -geometry ${width}x${height}).`,
        ),
      );
    }
    if (this.pending) {
      return Promise.reject(new VNCStateError(`A resize to ${this.pending.width}x${this.pending.height} is still waiting for ${this.remote}; await it before asking for another.`));
    }
    if (current.width === width && current.height === height) return Promise.resolve();
    const first = screens[0] ?? { id: 0, flags: 0 };
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const forwarded = this.pending?.forwarded ? ' It passed the request on to the guest, which did not resize (its display device may not support resizing).' : '';
        this.settle(new VNCTimeoutError(`${this.remote} did not resize the desktop to ${width}x${height} within ${timeoutMs} ms.${forwarded}`, timeoutMs));
      }, timeoutMs);
      this.pending = { width, height, forwarded: false, resolve, reject, timer };
      this.send(setDesktopSize(width, height, [{ id: first.id, x: 0, y: 0, width, height, flags: first.flags }])).catch((error: unknown) =>
        this.settle(error instanceof VNCError ? error : new VNCStateError(`Could not send the resize request to ${this.remote}: ${String(error)}`)),
      );
    });
  }

  private settle(error?: VNCError): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve();
  }
}
