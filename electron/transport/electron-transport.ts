// The contract over Electron IPC: one `ipcMain.handle` channel for every call (the same dispatch as the
// WebSocket), one `webContents.send` per event batch. Written against the few members it uses so a test
// can drive it with an in-process fake of ipcMain and webContents.
import { IPC_EVENTS, IPC_INVOKE } from '../../shared/channels';
import type { EventMessage, InvokeResult } from '../../shared/contract';
import type { Host } from '../host/host';
import { isAppUrl } from '../desktop/window-options';

export interface FrameLike {
  readonly url: string;
  /** null for a window's main frame. */
  readonly parent: FrameLike | null;
}

export interface InvokeEventLike {
  readonly sender: unknown;
  readonly senderFrame: FrameLike | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown> | unknown): void;
  removeHandler(channel: string): void;
}

export interface WebContentsLike {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

export interface ElectronTransportOptions {
  /** The app window's webContents, or null while there is none. */
  target(): WebContentsLike | null;
  /** Defaults to: the app window's main frame showing an app:// page. */
  isTrustedSender?(event: InvokeEventLike): boolean;
}

/** A call is trusted only from the app window's main frame while it shows the app's own page. */
export function isTrustedSender(event: InvokeEventLike, expected: WebContentsLike | null): boolean {
  if (!expected || event.sender !== expected) return false;
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  return isAppUrl(frame.url);
}

export function attachElectronTransport(host: Host, ipcMain: IpcMainLike, options: ElectronTransportOptions): () => void {
  const trusted = options.isTrustedSender ?? ((event: InvokeEventLike) => isTrustedSender(event, options.target()));
  ipcMain.handle(IPC_INVOKE, async (event, channel, payload): Promise<InvokeResult> => {
    let ok = false;
    try {
      ok = trusted(event);
    } catch {
      ok = false;
    }
    return host.dispatch(channel, payload, { trusted: ok });
  });
  const unsubscribe = host.subscribe((events: EventMessage[]) => {
    const target = options.target();
    if (target && !target.isDestroyed()) target.send(IPC_EVENTS, events);
  });
  return () => {
    ipcMain.removeHandler(IPC_INVOKE);
    unsubscribe();
  };
}
