// A host that speaks the contract over the WebSocket like `serve` does, but whose events the test
// scripts: it serves the built renderer and lets a test push any batch it likes (a 100,000-chunk job
// at 10 batches a second, say) without an engine behind it.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventMessage, InvokeChannel } from '../../../shared/contract';
import { RENDERER_DIST } from './paths';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

export type Answer = (channel: InvokeChannel, payload: unknown) => unknown;

export interface ScriptedHost {
  url: string;
  /** Resolves when the page has connected. */
  connected: Promise<void>;
  send(events: EventMessage[]): void;
  close(): Promise<void>;
}

export async function startScriptedHost(answer: Answer): Promise<ScriptedHost> {
  const sockets = new Set<WebSocket>();
  let onConnect!: () => void;
  const connected = new Promise<void>((resolve) => (onConnect = resolve));
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = normalize(join(RENDERER_DIST, path === '/' ? 'index.html' : path));
    if (!file.startsWith(RENDERER_DIST)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      const { id, channel, payload } = JSON.parse(String(data)) as { id: number; channel: InvokeChannel; payload: unknown };
      let reply: object;
      try {
        reply = { kind: 'result', id, ok: true, value: answer(channel, payload) };
      } catch (err) {
        reply = { kind: 'result', id, ok: false, error: { code: 'E_INTERNAL', message: String(err), retryable: false, causes: [] } };
      }
      ws.send(JSON.stringify(reply));
    });
    onConnect();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=scripted`,
    connected,
    send(events) {
      const text = JSON.stringify({ kind: 'events', events });
      for (const ws of sockets) ws.send(text);
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
