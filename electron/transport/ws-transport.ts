// The contract over a WebSocket (for `serve`): the same dispatch as Electron IPC. A connection is
// accepted only on WS_PATH with the server's random token, from the page's own origin (or from a
// non-browser client, which sends no Origin), and with a Host header naming this server (DNS rebinding).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { WS_PATH } from '../../shared/channels';
import type { EventMessage, ServerMessage } from '../../shared/contract';
import { MAX_MESSAGE_BYTES, invokeEnvelopeSchema } from '../../shared/schemas';
import type { Host } from '../host/host';
import { HostError } from '../host/host-error';

export interface WebSocketTransportOptions {
  token: string;
  /** Origins a browser page may connect from (the server's own); checked when an Origin is sent. */
  allowedOrigins(hostHeader: string): string[];
  /** Accepted Host header values (host:port); null accepts any (a non-loopback bind chosen by the operator). */
  allowedHosts(): string[] | null;
  /** A client this far behind on events is dropped; it reconnects and takes a fresh snapshot. */
  maxBufferedBytes?: number;
  heartbeatMs?: number;
}

export interface WebSocketTransport {
  clientCount(): number;
  /** Upgrade requests refused, by reason (for tests and the log). */
  readonly refused: { path: number; token: number; origin: number; host: number };
  close(): Promise<void>;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function tokenMatches(given: string | null, expected: string): boolean {
  if (!given) return false;
  // Equal-length digests: the comparison takes the same time whatever the guess.
  return timingSafeEqual(digest(given), digest(expected));
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
  socket.destroy();
}

export function attachWebSocketTransport(server: Server, host: Host, options: WebSocketTransportOptions): WebSocketTransport {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  const refused = { path: 0, token: 0, origin: 0, host: 0 };
  const alive = new WeakSet<WebSocket>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (url.pathname !== WS_PATH) {
      refused.path++;
      return refuse(socket, 404, 'Not Found');
    }
    const hosts = options.allowedHosts();
    if (hosts && !hosts.includes((req.headers.host ?? '').toLowerCase())) {
      refused.host++;
      return refuse(socket, 403, 'Forbidden');
    }
    if (!tokenMatches(url.searchParams.get('token'), options.token)) {
      refused.token++;
      return refuse(socket, 401, 'Unauthorized');
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !options.allowedOrigins(req.headers.host ?? '').includes(origin)) {
      refused.origin++;
      return refuse(socket, 403, 'Forbidden');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  const send = (ws: WebSocket, message: ServerMessage): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > maxBuffered) {
      ws.close(1013, 'too far behind; reconnect for a fresh snapshot');
      return;
    }
    ws.send(JSON.stringify(message));
  };

  wss.on('connection', (ws: WebSocket) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    const unsubscribe = host.subscribe((events: EventMessage[]) => send(ws, { kind: 'events', events }));
    ws.on('close', unsubscribe);
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void answer(ws, data, isBinary);
    });
  });

  async function answer(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    let id = 0;
    try {
      if (isBinary) throw new HostError('E_VALIDATION', 'Messages are JSON text');
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString());
      } catch {
        throw new HostError('E_VALIDATION', 'The message is not JSON');
      }
      const maybeId = (parsed as { id?: unknown } | null)?.id;
      if (typeof maybeId === 'number' && Number.isSafeInteger(maybeId) && maybeId >= 0) id = maybeId;
      const envelope = invokeEnvelopeSchema.safeParse(parsed);
      if (!envelope.success) throw new HostError('E_VALIDATION', 'A message is {id, channel, payload}');
      const result = await host.dispatch(envelope.data.channel, envelope.data.payload, { trusted: true });
      send(ws, { kind: 'result', id, ...result });
    } catch (err) {
      const error = err instanceof HostError ? err.serialize() : new HostError('E_VALIDATION', 'Malformed message').serialize();
      host.stats.invalid++;
      send(ws, { kind: 'result', id, ok: false, error });
    }
  }

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  return {
    refused,
    clientCount: () => wss.clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        server.off('upgrade', onUpgrade);
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
