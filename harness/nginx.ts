// A real nginx on a free 127.0.0.1 port, run as the current user from a generated config in a temp dir,
// serving a folder of files. Real ranges, real keep-alive, real throttling: the counterpart of the
// fault server.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type AddressInfo } from 'node:net';
import { accessSync, constants, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX_BINARY = process.env.NGINX_BINARY ?? '/usr/sbin/nginx';

export interface NginxOptions {
  /** The folder served at `/`. */
  root: string;
  /** nginx `limit_rate` per connection, e.g. '2m' or 2_000_000 (bytes/s). */
  limitRate?: string | number;
  /** Give up if nginx does not answer within this long. */
  startTimeoutMs?: number;
}

export interface Nginx {
  port: number;
  origin: string;
  url(path: string): string;
  /** The access log so far (one line per request: method, path, status, bytes, range). */
  accessLog(): string[];
  stop(): Promise<void>;
}

/** Why nginx cannot run here, or null when it can (startNginx fails with this; npm test installs nginx first). */
export function nginxMissing(): string | null {
  try {
    accessSync(NGINX_BINARY, constants.X_OK);
    return null;
  } catch {
    return `nginx is not installed at ${NGINX_BINARY} (apt-get install -y nginx-light; npm test does this)`;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function config(dir: string, port: number, options: NginxOptions): string {
  const limit = options.limitRate === undefined ? '' : `limit_rate ${options.limitRate};`;
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  log_format ranges '$request_method $uri $status $body_bytes_sent "$http_range"';
  access_log ${dir}/access.log ranges;
  client_body_temp_path ${dir}/tmp/client;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  default_type application/octet-stream;
  sendfile on;
  keepalive_timeout 30s;
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
    root ${options.root};
    ${limit}
    location / { }
  }
}
`;
}

/** Answers once the port accepts a connection and returns an HTTP status line. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('connect', () => socket.write('HEAD / HTTP/1.0\r\nHost: localhost\r\n\r\n'));
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\r\n')) {
        socket.destroy();
        resolve(text.startsWith('HTTP/'));
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(text.startsWith('HTTP/')));
  });
}

// A failing test must not leave nginx running (nor keep the test process alive).
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts nginx on a free port (a few attempts, in case the port is taken in between). */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const reason = nginxMissing();
  if (reason) throw new Error(reason);
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = await tryStart(options);
    if ('nginx' in started) return started.nginx;
    lastError = started.error;
  }
  throw new Error(`nginx did not start: ${lastError}`);
}

async function tryStart(options: NginxOptions): Promise<{ nginx: Nginx } | { error: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
  mkdirSync(join(dir, 'tmp'));
  // As root (CI) nginx may read as another user; the served tree must be traversable.
  if (process.getuid?.() === 0) chmodSync(dir, 0o755);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config(dir, port, options));
  const child: ChildProcess = spawn(NGINX_BINARY, ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  child.once('error', (e) => (stderr += String(e)));

  live.add(child);
  child.once('exit', () => live.delete(child));
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (!exited && Date.now() < deadline) {
    let up = false;
    try {
      up = await answers(port);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    if (up) {
      const nginx: Nginx = {
        port,
        origin: `http://127.0.0.1:${port}`,
        url: (path) => `http://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`,
        accessLog: () => {
          try {
            return readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean);
          } catch {
            return [];
          }
        },
        stop: async () => {
          if (!exited) {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
            await exitedPromise;
            clearTimeout(timer);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
      return { nginx };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!exited) child.kill('SIGKILL');
  await exitedPromise;
  let log = '';
  try {
    log = readFileSync(join(dir, 'error.log'), 'utf8');
  } catch {
    // no log written
  }
  rmSync(dir, { recursive: true, force: true });
  return { error: (stderr + log).trim().split('\n').slice(-5).join('\n') || 'no answer' };
}
