// Channel names as plain constants, free of zod, so the renderer bundle and the sandboxed preload can
// use them without pulling the schemas in. `contract.ts` checks at compile time that these lists match
// its table exactly.

export const INVOKE_CHANNELS = [
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
] as const;

export const EVENT_CHANNELS = ['jobSnapshot', 'jobRemoved', 'chunkBatch', 'windowOccupancy', 'attempt', 'jobError'] as const;

export type InvokeChannel = (typeof INVOKE_CHANNELS)[number];
export type EventChannel = (typeof EVENT_CHANNELS)[number];

/** The one Electron IPC channel for calls, and the one for event batches (one batch = one message). */
export const IPC_INVOKE = 'snapshot-manager:invoke';
export const IPC_EVENTS = 'snapshot-manager:events';

/** The key under which preload exposes the Api on `window`. */
export const API_GLOBAL = 'snapshotManager';

/** WebSocket path of `serve`; the token travels as the `token` query parameter. */
export const WS_PATH = '/ws';

/** `serve` answers 204 here when the `token` query parameter is its token, 401 when not. */
export const AUTH_CHECK_PATH = '/auth-check';

/** Errors produced by the host itself (the engine's codes are in electron/engine/errors.ts). */
export const HOST_ERROR_CODES = ['E_VALIDATION', 'E_NOT_FOUND', 'E_UNSUPPORTED', 'E_FORBIDDEN', 'E_CONFLICT', 'E_TRANSPORT'] as const;
export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];

export function isInvokeChannel(value: unknown): value is InvokeChannel {
  return typeof value === 'string' && (INVOKE_CHANNELS as readonly string[]).includes(value);
}

export function isEventChannel(value: unknown): value is EventChannel {
  return typeof value === 'string' && (EVENT_CHANNELS as readonly string[]).includes(value);
}
