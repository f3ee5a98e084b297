// The Api over the WebSocket of `serve`. Plain TypeScript, no Node imports: the renderer uses it in a
// browser, the tests use it in Node with the `ws` package's WebSocket.
import { AUTH_CHECK_PATH, EVENT_CHANNELS, INVOKE_CHANNELS, WS_PATH, isEventChannel } from './channels';
import type { Api, EventChannel, EventMessage, InvokeChannel, SerializedError, ServerMessage } from './contract';

/** The subset of the browser WebSocket this client uses (the `ws` package's WebSocket fits too). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

/** 'unauthorized': the host is up but refuses this token (a restarted `serve` with a new one); no more retries. */
export type ConnectionStatus = 'connecting' | 'open' | 'closed' | 'unauthorized';

export interface WebSocketApiOptions {
  /** Defaults to the global WebSocket (browsers, Node 22+). */
  createSocket?: WebSocketFactory;
  /** Reopen after a drop, with a growing delay up to 5 s (default true). */
  reconnect?: boolean;
  onStatus?: (status: ConnectionStatus) => void;
  /**
   * Asked after a connection failed: false when the host answered that the token is refused (a browser
   * cannot see the upgrade's 401). Absent: every failure is taken for a host that is away.
   */
  checkAuth?: () => Promise<boolean | null>;
}

export interface WebSocketApi {
  api: Api;
  /** Resolves when the first connection is open; rejects if it closes before opening. */
  ready: Promise<void>;
  close(): void;
}

/** Where `serve` says whether the page's token is its token (204) or not (401). */
export function authCheckUrlFromPage(pageUrl: string): string {
  const page = new URL(pageUrl);
  const url = new URL(AUTH_CHECK_PATH, page);
  const token = page.searchParams.get('token');
  if (token) url.searchParams.set('token', token);
  return url.toString();
}

/** The WebSocket URL of the page that `serve` printed: same host, `/ws`, the page's `token`. */
export function webSocketUrlFromPage(pageUrl: string): string {
  const page = new URL(pageUrl);
  const ws = new URL(WS_PATH, page);
  ws.protocol = page.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = page.searchParams.get('token');
  if (token) ws.searchParams.set('token', token);
  return ws.toString();
}

const OPEN = 1;

function transportError(message: string): SerializedError {
  return { code: 'E_TRANSPORT', message, retryable: true, causes: [] };
}

export function createWebSocketApi(url: string, options: WebSocketApiOptions = {}): WebSocketApi {
  const createSocket =
    options.createSocket ??
    ((u: string) => {
      const Ctor = (globalThis as { WebSocket?: new (u: string) => WebSocketLike }).WebSocket;
      if (!Ctor) throw new Error('no WebSocket implementation available');
      return new Ctor(u);
    });
  const reconnect = options.reconnect ?? true;
  const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: SerializedError) => void }>();
  let nextId = 1;
  let socket: WebSocketLike | null = null;
  let closedByUser = false;
  let retryDelay = 250;
  let everOpened = false;
  let resolveReady!: () => void;
  let rejectReady!: (e: SerializedError) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // An unobserved rejection of `ready` must not crash anyone who only uses the api.
  ready.catch(() => undefined);

  function deliver(events: EventMessage[]): void {
    for (const event of events) {
      if (!isEventChannel(event.channel)) continue;
      for (const listener of listeners.get(event.channel) ?? []) {
        try {
          listener(event.payload);
        } catch (err) {
          // One faulty listener must not starve the others.
          setTimeout(() => {
            throw err;
          });
        }
      }
    }
  }

  function onMessage(data: unknown): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(typeof data === 'string' ? data : String(data)) as ServerMessage;
    } catch {
      return;
    }
    if (message.kind === 'events' && Array.isArray(message.events)) {
      deliver(message.events);
    } else if (message.kind === 'result') {
      const call = pending.get(message.id);
      if (!call) return;
      pending.delete(message.id);
      if (message.ok) call.resolve(message.value);
      else call.reject(message.error);
    }
  }

  function open(): void {
    options.onStatus?.('connecting');
    const s = createSocket(url);
    socket = s;
    s.onopen = () => {
      everOpened = true;
      retryDelay = 250;
      options.onStatus?.('open');
      resolveReady();
    };
    s.onmessage = (ev) => onMessage(ev.data);
    s.onerror = () => undefined;
    s.onclose = () => {
      if (socket === s) socket = null;
      for (const [id, call] of pending) {
        pending.delete(id);
        call.reject(transportError('the connection to the host closed'));
      }
      options.onStatus?.('closed');
      if (!everOpened) rejectReady(transportError('could not connect to the host (is the token right?)'));
      if (closedByUser || !reconnect) return;
      const again = (): void => {
        setTimeout(() => {
          if (!closedByUser) open();
        }, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 5000);
      };
      if (!options.checkAuth) {
        if (everOpened) again();
        return;
      }
      options.checkAuth().then(
        (ok) => {
          if (closedByUser) return;
          if (ok === false) options.onStatus?.('unauthorized');
          else if (everOpened || ok === true) again();
        },
        () => everOpened && again(),
      );
    };
  }

  function invoke(channel: InvokeChannel, payload: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!socket || socket.readyState !== OPEN) {
        reject(transportError('not connected to the host'));
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, channel, payload: payload ?? {} }));
    });
  }

  const api = {} as Record<string, unknown>;
  for (const channel of INVOKE_CHANNELS) api[channel] = (request?: unknown) => invoke(channel, request);
  api.on = (channel: EventChannel, listener: (payload: unknown) => void) => {
    if (!(EVENT_CHANNELS as readonly string[]).includes(channel)) throw new Error(`unknown event channel ${String(channel)}`);
    let set = listeners.get(channel);
    if (!set) listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  };

  open();
  return {
    api: api as unknown as Api,
    ready,
    close() {
      closedByUser = true;
      socket?.close(1000, 'closed by the client');
    },
  };
}
