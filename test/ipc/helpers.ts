// Shared by the IPC tests: archives made in memory, temp dirs, a WebSocket Api client, waiting for a
// condition on the event stream.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import * as tarStream from 'tar-stream';
import WebSocket from 'ws';
import { createWebSocketApi, type WebSocketApi, type WebSocketLike } from '../../shared/ws-client';

export function tempDir(prefix: string): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), `sm-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A .tar.gz of incompressible files: `files` entries of `fileSize` bytes each. */
export async function makeTarGz(files: number, fileSize: number): Promise<{ archive: Buffer; contents: Map<string, Buffer> }> {
  const pack = tarStream.pack();
  const contents = new Map<string, Buffer>();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (let i = 0; i < files; i++) {
    const name = `data/file-${i}.bin`;
    const body = randomBytes(fileSize);
    contents.set(name, body);
    await new Promise<void>((resolve, reject) => pack.entry({ name, size: body.length }, body, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await ended;
  return { archive: gzipSync(Buffer.concat(chunks), { level: 1 }), contents };
}

export function connectApi(url: string, options: { origin?: string } = {}): WebSocketApi {
  return createWebSocketApi(url, {
    reconnect: false,
    createSocket: (u) => new WebSocket(u, options.origin ? { origin: options.origin } : {}) as unknown as WebSocketLike,
  });
}

export async function waitFor<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
