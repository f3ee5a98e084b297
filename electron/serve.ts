// `snapshot-manager serve`: the app without its window. Serves the built renderer and a WebSocket that
// carries the same contract as Electron IPC, so an operator on a remote box uses the same UI through
// an ssh tunnel. A random token guards every connection; the full URL with it is the first line on stdout.
// The token is kept in the state folder (owner-only), so an open tab reconnects after a restart.
import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { appDataDir } from './host/app-data-dir';
import { JobManager, type JobManagerOptions } from './host/job-manager';
import { InProcessRunner } from './engine/runner/in-process-runner';
import { PartsRun } from './engine/parts/parts-run';
import type { JobRunner } from './engine/runner/runner';
import { WorkerRunner } from './engine/runner/worker-runner';
import { Job } from './engine/job/job';
import { Host } from './host/host';
import { contentTypeOf, resolveRendererFile } from './transport/static-files';
import { loadOrCreateToken } from './transport/serve-token';
import { servePolicy } from './desktop/window-options';
import { attachWebSocketTransport, tokenMatches, type WebSocketTransport } from './transport/ws-transport';
import { AUTH_CHECK_PATH } from '../shared/channels';
import { watchInterrupts } from './cli/signals';

export const SERVE_USAGE = `Usage: snapshot-manager serve [--host 127.0.0.1] [--port 0] [--state-dir <dir>] [--in-process]
  --host        address to bind (default 127.0.0.1; a non-loopback address must be given explicitly)
  --port        port (default 0: any free port)
  --state-dir   where jobs, settings and staging live (default: the user's data directory)
  --in-process  run the engine on the server's thread instead of a worker thread (diagnosis only)`;

export interface ServeOptions {
  host: string;
  port: number;
  stateDir: string;
  /** Engine on a worker thread (default) or on the server's own thread. */
  worker: boolean;
  rendererDir?: string;
  /** Engine options the UI cannot set (tests shorten retry delays). */
  engineOptions?: JobManagerOptions['engineOptions'];
  /** A fixed token instead of the one kept in the state folder (tests). */
  token?: string;
  /** One line per job transition (serve's stderr). */
  log?: (line: string) => void;
}

export interface ServeHandle {
  /** The page URL with the token. */
  url: string;
  token: string;
  port: number;
  manager: JobManager;
  host: Host;
  transport: WebSocketTransport;
  server: Server;
  close(): Promise<void>;
}

class ServeUsageError extends Error {}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

export function defaultStateDir(): string {
  return appDataDir();
}

export interface ParsedServeArgs {
  host: string;
  hostGiven: boolean;
  port: number;
  stateDir: string;
  worker: boolean;
  help: boolean;
}

export function parseServeArgs(argv: string[]): ParsedServeArgs {
  const out: ParsedServeArgs = { host: '127.0.0.1', hostGiven: false, port: 0, stateDir: defaultStateDir(), worker: true, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new ServeUsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--host':
        out.host = value();
        out.hostGiven = true;
        break;
      case '--port': {
        const v = value();
        const port = Number(v);
        if (!/^\d+$/.test(v) || port > 65535) throw new ServeUsageError(`--port must be 0..65535, not ${v}`);
        out.port = port;
        break;
      }
      case '--state-dir':
        out.stateDir = resolve(value());
        break;
      case '--in-process':
        out.worker = false;
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      default:
        throw new ServeUsageError(`Unknown option ${arg}`);
    }
  }
  if (!isLoopbackHost(out.host) && !out.hostGiven) throw new ServeUsageError('Refusing to listen on a non-loopback address that was not given with --host');
  return out;
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export async function startServe(options: ServeOptions): Promise<ServeHandle> {
  if (!isAbsolute(options.stateDir)) throw new ServeUsageError('--state-dir must resolve to an absolute path');
  const rendererDir = options.rendererDir ?? join(__dirname, '..', 'renderer');
  const runner: JobRunner = options.worker ? new WorkerRunner() : new InProcessRunner((o, id) => (o.parts?.length ? new PartsRun(o, id) : new Job(o, id)));
  const manager = await JobManager.open({ dataDir: options.stateDir, runner, ...(options.engineOptions ? { engineOptions: options.engineOptions } : {}) });
  const host = new Host(manager, { transport: 'websocket', version: readVersion(), platform: process.platform, destinationsFromDialogOnly: false });
  let token: string;
  try {
    token = options.token ?? (await loadOrCreateToken(options.stateDir, () => randomBytes(24).toString('base64url')));
  } catch (err) {
    host.close();
    await manager.close();
    throw err;
  }
  const loopback = isLoopbackHost(options.host);
  let port = 0;
  const ownHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${urlHost(options.host).toLowerCase()}:${port}`];

  const server = createServer((req, res) => {
    // A tab whose WebSocket is refused asks here why: a browser does not see the upgrade's 401.
    if (req.url?.startsWith(`${AUTH_CHECK_PATH}?`) || req.url === AUTH_CHECK_PATH) {
      const given = new URL(req.url, 'http://x').searchParams.get('token');
      res.writeHead(tokenMatches(given, token) ? 204 : 401, { 'Cache-Control': 'no-store', 'Content-Type': 'text/plain' }).end();
      return;
    }
    void serveStatic(req, res, rendererDir, loopback ? ownHosts() : null, port).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const transport = attachWebSocketTransport(server, host, {
    token,
    allowedHosts: () => (loopback ? ownHosts() : null),
    allowedOrigins: (hostHeader) => (loopback ? ownHosts().map((h) => `http://${h}`) : [`http://${hostHeader}`]),
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(options.host)}:${port}/?token=${token}`;
  if (options.log) watchTransitions(manager, host, options.log);
  manager.startRestored();
  let closing: Promise<void> | null = null;
  return {
    url,
    token,
    port,
    manager,
    host,
    transport,
    server,
    close: () =>
      (closing ??= (async () => {
        await transport.close();
        host.close();
        await manager.close();
        server.closeAllConnections?.();
        await new Promise<void>((r) => server.close(() => r()));
      })()),
  };
}

/** Prints a line when a job appears, changes state (or pause reason) or goes. */
function watchTransitions(manager: JobManager, host: Host, log: (line: string) => void): void {
  const seen = new Map<string, string>();
  const name = (url: string): string => decodeURIComponent(new URL(url).pathname.split('/').pop() || url);
  for (const job of manager.list()) seen.set(job.id, `${job.state}:${job.pauseReason ?? ''}`);
  host.subscribe((events) => {
    for (const e of events) {
      if (e.channel === 'jobRemoved') {
        if (seen.delete(e.payload.jobId)) log(`${new Date().toISOString()} job ${e.payload.jobId.slice(0, 8)} removed`);
        continue;
      }
      if (e.channel !== 'jobSnapshot') continue;
      const j = e.payload;
      const key = `${j.state}:${j.pauseReason ?? ''}`;
      if (seen.get(j.id) === key) continue;
      seen.set(j.id, key);
      const what = j.state === 'paused' ? `paused (${j.pauseReason ?? 'user'})` : j.state;
      const err = j.error && (j.state === 'failed' || j.state === 'paused') ? `: ${j.error.code} ${j.error.message}` : '';
      log(`${new Date().toISOString()} job ${j.id.slice(0, 8)} ${name(j.url)} → ${j.dest ?? j.output ?? ''}: ${what}${err}`);
    }
  });
}

async function serveStatic(req: IncomingMessage, res: ServerResponse, root: string, hosts: string[] | null, port: number): Promise<void> {
  const common = {
    'X-Content-Type-Options': 'nosniff',
    // The token is in the page's URL: never hand it to another origin.
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
  if (hosts && !hosts.includes((req.headers.host ?? '').toLowerCase())) {
    res.writeHead(421, { ...common, 'Content-Type': 'text/plain' }).end('Misdirected Request');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...common, Allow: 'GET, HEAD' }).end();
    return;
  }
  const file = resolveRendererFile(root, new URL(req.url ?? '/', 'http://x').pathname);
  const stat = file ? await fsp.stat(file).catch(() => null) : null;
  if (!file || !stat || !stat.isFile()) {
    const missingUi = file?.endsWith('index.html');
    res.writeHead(missingUi ? 503 : 404, { ...common, 'Content-Type': 'text/plain' });
    res.end(missingUi ? 'The renderer is not built: run `npm run build`.' : 'Not Found');
    return;
  }
  res.writeHead(200, {
    ...common,
    'Content-Type': contentTypeOf(file),
    'Content-Length': stat.size,
    'Content-Security-Policy': servePolicy(`ws://${req.headers.host ?? `127.0.0.1:${port}`}`),
    'Cache-Control': file.endsWith('index.html') ? 'no-store' : 'max-age=3600',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}

/** Entry point of `snapshot-manager serve`; resolves with the exit code after SIGINT/SIGTERM. */
export async function runServe(argv: string[]): Promise<number> {
  let args: ParsedServeArgs;
  try {
    args = parseServeArgs(argv);
  } catch (err) {
    if (err instanceof ServeUsageError) {
      process.stderr.write(`${err.message}\n${SERVE_USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  let handle: ServeHandle;
  try {
    handle = await startServe({ host: args.host, port: args.port, stateDir: args.stateDir, worker: args.worker, log: (line) => process.stderr.write(`${line}\n`) });
  } catch (err) {
    process.stderr.write(`Cannot serve: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof ServeUsageError ? 2 : 1;
  }
  process.stdout.write(`${handle.url}\n`);
  if (!isLoopbackHost(args.host)) {
    process.stderr.write(`Warning: listening on ${args.host}, reachable from other machines; the token is the only guard and travels unencrypted.\n`);
  }
  process.stderr.write(`Serving Snapshot Manager (state in ${args.stateDir}); Ctrl-C stops and pauses the jobs.\n`);
  // The copy of a Ctrl-C that npm forwards must not kill the shutdown that saves the jobs (see cli/signals.ts).
  return new Promise<number>((resolvePromise) => {
    watchInterrupts(
      () =>
        handle.close().then(
          () => resolvePromise(0),
          () => resolvePromise(1),
        ),
      () => process.exit(1),
    );
  });
}
