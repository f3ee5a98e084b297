// An in-process stand-in for the parts of Electron the IPC path uses (ipcMain, webContents, the
// preload's contextBridge and ipcRenderer), so the compiled preload and the Electron transport run
// together here without Electron's binary. Calls are cloned like Electron's structured clone would.
import Module from 'node:module';
import type { InvokeEventLike, IpcMainLike, WebContentsLike } from '../../electron/transport/electron-transport';
import type { Api } from '../../shared/contract';

type Handler = (event: InvokeEventLike, ...args: unknown[]) => unknown;

export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

export class FakeWebContents implements WebContentsLike {
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];
  destroyed = false;
  private readonly rendererListeners = new Map<string, Array<(event: unknown, ...args: unknown[]) => void>>();
  send(channel: string, ...args: unknown[]): void {
    const cloned = structuredClone(args);
    this.sent.push({ channel, args: cloned });
    for (const l of this.rendererListeners.get(channel) ?? []) l({}, ...cloned);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  onRenderer(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void {
    const list = this.rendererListeners.get(channel) ?? [];
    list.push(listener);
    this.rendererListeners.set(channel, list);
  }
}

export interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
}

/**
 * Loads the compiled preload against fake `electron` exports wired to `ipcMain`/`webContents`, as if
 * it ran in `frame`. Returns what it exposed through contextBridge.
 */
export function loadPreload(preloadPath: string, ipcMain: FakeIpcMain, webContents: FakeWebContents, frame: () => FakeFrame): { exposed: Map<string, unknown>; api: Api } {
  const exposed = new Map<string, unknown>();
  const fakeElectron = {
    contextBridge: {
      exposeInMainWorld(key: string, value: unknown) {
        exposed.set(key, value);
      },
    },
    ipcRenderer: {
      async invoke(channel: string, ...args: unknown[]) {
        const handler = ipcMain.handlers.get(channel);
        if (!handler) throw new Error(`No handler registered for '${channel}'`);
        const result = await handler({ sender: webContents, senderFrame: frame() }, ...structuredClone(args));
        return structuredClone(result);
      },
      on(channel: string, listener: (event: unknown, ...args: unknown[]) => void) {
        webContents.onRenderer(channel, listener);
      },
    },
  };
  const requireFrom = Module.createRequire(preloadPath);
  const electronPath = requireFrom.resolve('electron');
  const previous = require.cache[electronPath];
  const stub = new Module(electronPath);
  stub.exports = fakeElectron;
  stub.loaded = true;
  require.cache[electronPath] = stub;
  delete require.cache[preloadPath];
  try {
    requireFrom(preloadPath);
  } finally {
    if (previous) require.cache[electronPath] = previous;
    else delete require.cache[electronPath];
    delete require.cache[preloadPath];
  }
  return { exposed, api: exposed.get('snapshotManager') as Api };
}
