// The one contract between the host (Electron main or `serve`) and the renderer: a table of invoke
// channels (request → response) and event channels (payload), each backed by a zod schema in
// `schemas.ts`. Every type here is inferred from that table, so nothing is written twice.
//
// The renderer should `import type` from this file (types only: no zod at run time) and take the
// channel names from `channels.ts`.
import type { z } from 'zod';
import type { EventChannel, InvokeChannel } from './channels';
import type {
  attemptEventSchema,
  attemptRecordSchema,
  chunkViewSchema,
  decodingViewSchema,
  eventSchemas,
  infoSchema,
  jobDetailSchema,
  jobViewSchema,
  logEntrySchema,
  progressViewSchema,
  requestSchemas,
  responseSchemas,
  serializedErrorSchema,
  settingsSchema,
  windowViewSchema,
} from './schemas';

export type { EventChannel, InvokeChannel } from './channels';
export {
  API_GLOBAL,
  EVENT_CHANNELS,
  INVOKE_CHANNELS,
  IPC_EVENTS,
  IPC_INVOKE,
  WS_PATH,
  isEventChannel,
  isInvokeChannel,
} from './channels';

// ---- the table, as types

type RequestTable = typeof requestSchemas;
type ResponseTable = typeof responseSchemas;
type EventTable = typeof eventSchemas;

/** What the renderer passes (zod input: optional fields may be left out). */
export type InvokeRequest<C extends InvokeChannel> = z.input<RequestTable[C]>;
/** What the host has validated (zod output). */
export type ValidatedRequest<C extends InvokeChannel> = z.output<RequestTable[C]>;
export type InvokeResponse<C extends InvokeChannel> = z.output<ResponseTable[C]>;
export type EventPayload<E extends EventChannel> = z.output<EventTable[E]>;

// ---- named views, for components

export type SerializedError = z.output<typeof serializedErrorSchema>;
export type JobView = z.output<typeof jobViewSchema>;
export type JobDetail = z.output<typeof jobDetailSchema>;
export type ChunkView = z.output<typeof chunkViewSchema>;
export type DecodingView = z.output<typeof decodingViewSchema>;
export type WindowView = z.output<typeof windowViewSchema>;
export type ProgressView = z.output<typeof progressViewSchema>;
export type AttemptRecordView = z.output<typeof attemptRecordSchema>;
export type AttemptEventView = z.output<typeof attemptEventSchema>;
export type Settings = z.output<typeof settingsSchema>;
export type HostInfo = z.output<typeof infoSchema>;
export type LogEntryView = z.output<typeof logEntrySchema>;
export type AddJobRequest = InvokeRequest<'addJob'>;

// ---- the Api (preload exposes it; the WebSocket client implements it)

type Call<C extends InvokeChannel> =
  {} extends InvokeRequest<C> ? (request?: InvokeRequest<C>) => Promise<InvokeResponse<C>> : (request: InvokeRequest<C>) => Promise<InvokeResponse<C>>;

export type Unsubscribe = () => void;

/**
 * Each invoke channel is a method resolving to its response; a failure rejects with a value of the
 * `SerializedError` shape (`{code, message, causes, retryable}`; use `asSerializedError`).
 */
export type Api = { [C in InvokeChannel]: Call<C> } & {
  on<E extends EventChannel>(channel: E, listener: (payload: EventPayload<E>) => void): Unsubscribe;
};

// ---- wire messages

export interface InvokeEnvelope {
  id: number;
  channel: InvokeChannel;
  payload?: unknown;
}

export type InvokeResult<T = unknown> = { ok: true; value: T } | { ok: false; error: SerializedError };

/** One event; a transport message carries an array of them (one flush of one job, or one snapshot). */
export type EventMessage = { [E in EventChannel]: { channel: E; payload: EventPayload<E> } }[EventChannel];

/** What the WebSocket server sends. */
export type ServerMessage = ({ kind: 'result'; id: number } & InvokeResult) | { kind: 'events'; events: EventMessage[] };

/** Reads `{code, message, causes, retryable}` out of whatever a call rejected with. */
export function asSerializedError(err: unknown): SerializedError {
  if (err && typeof err === 'object') {
    const e = err as Partial<SerializedError>;
    if (typeof e.code === 'string' && typeof e.message === 'string') {
      return {
        code: e.code,
        message: e.message,
        retryable: e.retryable === true,
        causes: Array.isArray(e.causes) ? e.causes : [],
        ...(e.details ? { details: e.details } : {}),
      };
    }
  }
  return { code: 'E_INTERNAL', message: err instanceof Error ? err.message : String(err), retryable: false, causes: [] };
}

// ---- compile-time checks: the plain channel lists equal the schema table

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const invokeListMatches: Equal<InvokeChannel, keyof RequestTable> & Equal<InvokeChannel, keyof ResponseTable> = true;
const eventListMatches: Equal<EventChannel, keyof EventTable> = true;
void invokeListMatches;
void eventListMatches;
