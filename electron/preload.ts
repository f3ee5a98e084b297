// Preload of the app window: exposes the contract's Api on `window.snapshotManager` and nothing else
// (never ipcRenderer). A sandboxed preload may require only `electron`, so the channel names are
// spelled here; the compile-time checks below fail the build if they drift from shared/channels.ts.
import { contextBridge, ipcRenderer } from 'electron';
import type * as Channels from '../shared/channels';
import type { Api, EventChannel, EventMessage, InvokeChannel, InvokeResult } from '../shared/contract';

const IPC_INVOKE: typeof Channels.IPC_INVOKE = 'snapshot-manager:invoke';
const IPC_EVENTS: typeof Channels.IPC_EVENTS = 'snapshot-manager:events';
const API_GLOBAL: typeof Channels.API_GLOBAL = 'snapshotManager';

const INVOKE = [
  'getInfo',
  'listJobs',
  'getJob',
  'addJob',
  'addManifestJob',
  'pauseJob',
  'resumeJob',
  'cancelJob',
  'removeJob',
  'retryChunkNow',
  'setRateLimit',
  'replaceLink',
  'getChunkHistory',
  'getJobLog',
  'getSettings',
  'setSettings',
  'chooseDestination',
  'checkDestination',
  'revealInFolder',
] as const satisfies readonly InvokeChannel[];
const EVENTS = ['jobSnapshot', 'jobRemoved', 'chunkBatch', 'windowOccupancy', 'attempt', 'jobError'] as const satisfies readonly EventChannel[];

type Exhaustive<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : false;
const invokeListed: Exhaustive<InvokeChannel, (typeof INVOKE)[number]> = true;
const eventsListed: Exhaustive<EventChannel, (typeof EVENTS)[number]> = true;
void invokeListed;
void eventsListed;

const listeners = new Map<string, Set<(payload: unknown) => void>>();

ipcRenderer.on(IPC_EVENTS, (_event, events: EventMessage[]) => {
  if (!Array.isArray(events)) return;
  for (const e of events) {
    for (const listener of listeners.get(e?.channel) ?? []) {
      try {
        listener(e.payload);
      } catch (err) {
        console.error(err);
      }
    }
  }
});

async function invoke(channel: InvokeChannel, request: unknown): Promise<unknown> {
  const result = (await ipcRenderer.invoke(IPC_INVOKE, channel, request ?? {})) as InvokeResult;
  if (result.ok) return result.value;
  // A plain object crosses the context bridge intact ({code, message, causes, retryable}); an Error would not.
  throw result.error;
}

const api: Record<string, unknown> = {};
for (const channel of INVOKE) api[channel] = (request?: unknown) => invoke(channel, request);
api.on = (channel: EventChannel, listener: (payload: unknown) => void): (() => void) => {
  if (!(EVENTS as readonly string[]).includes(channel) || typeof listener !== 'function') throw new Error('unknown event channel');
  let set = listeners.get(channel);
  if (!set) listeners.set(channel, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
  };
};

contextBridge.exposeInMainWorld(API_GLOBAL, api as Api);
