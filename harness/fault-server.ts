// A fault-injecting HTTP/1.1 origin on 127.0.0.1 for the engine's tests. It serves byte buffers or files
// with the headers a ranged downloader relies on (HEAD, single Range, If-Range with strong ETag
// comparison, ETag, Last-Modified, Accept-Ranges) and, per request, whatever fault the test's plan asks
// for. Every request is recorded with the body bytes actually written, so tests can assert how much was
// fetched twice.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Socket, type AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { open, stat, type FileHandle } from 'node:fs/promises';

export type Body = Buffer | { file: string };

export interface ResourceOptions {
  /** Strong ETag by default (a hash of the content); a string is sent verbatim; null sends none. */
  etag?: string | null;
  /** Defaults to a fixed date so runs are reproducible; null sends none. */
  lastModified?: Date | null;
  /** false: the origin has no range support (no Accept-Ranges, Range ignored, answers 200). */
  acceptRanges?: boolean;
  /** false: no Content-Length anywhere (chunked GET bodies, HEAD without length). */
  contentLength?: boolean;
  contentType?: string;
  /** true: 206 answers give the total as `*` (`bytes 0-99/*`), as some origins and proxies do. */
  unknownTotal?: boolean;
}

interface Resource {
  body: Body;
  size: number;
  etag: string | null;
  lastModified: Date | null;
  acceptRanges: boolean;
  contentLength: boolean;
  contentType: string;
  unknownTotal: boolean;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export type Fault =
  /** Answer 200 with the full body whatever the Range says. */
  | { kind: 'ignore-range' }
  /**
   * Answer 206 with the right bytes for the request but a Content-Range that lies (absent parts stay true);
   * `honest`: the bytes of the range the header names instead (a proxy that serves another range).
   */
  | { kind: 'wrong-content-range'; start?: number; end?: number; total?: number | '*'; honest?: boolean }
  /** Serve this request as if the resource had changed: a new ETag and, optionally, other bytes. */
  | { kind: 'changed'; etag: string | null; body?: Buffer; lastModified?: Date }
  /** Send the headers (full Content-Length) then destroy the socket after this many body bytes. */
  | { kind: 'cut'; afterBytes: number }
  /** Send the headers and `afterBytes` (default 0) body bytes, then nothing for `ms` (forever if absent). */
  | { kind: 'stall'; afterBytes?: number; ms?: number }
  /** Send the body `bytes` at a time every `everyMs` (always progressing, slowly). */
  | { kind: 'trickle'; bytes: number; everyMs: number }
  /** Answer with this status and an optional Retry-After (seconds or an HTTP date). */
  | { kind: 'status'; status: number; retryAfter?: number | string; body?: string; contentType?: string }
  /** 416 with `Content-Range: bytes *\/total` (the real size unless given). */
  | { kind: 'unsatisfiable'; total?: number }
  /** Redirect to `location` (a path on this server or an absolute URL). */
  | { kind: 'redirect'; location: string; status?: 301 | 302 | 303 | 307 | 308 }
  /** Answer a HEAD with 405 Method Not Allowed. */
  | { kind: 'head-refused' }
  /** Leave out Accept-Ranges and Content-Length (a GET body is then chunked, and Range is ignored). */
  | { kind: 'no-range-headers' }
  /** Destroy the connection before any response. */
  | { kind: 'reset' }
  /** The body compressed with gzip, `Content-Encoding: gzip`, chunked (a compressing proxy); status and Content-Range stay. */
  | { kind: 'content-encoding' }
  /** Headers as for the asked range, but the body runs from the range's start to the end of the file (chunked). */
  | { kind: 'overlong-body' }
  /** A HEAD whose Content-Length claims this size (a proxy or stale cache in front of the origin). */
  | { kind: 'head-length'; length: number };

export type FaultKind = Fault['kind'];

export interface RequestInfo {
  /** 1-based over the whole server. */
  n: number;
  /** 1-based among the requests for the same path. */
  nForPath: number;
  method: string;
  path: string;
  /** The query string, `?` included ('' when none): a presigned link's signature and expiry. */
  query: string;
  rangeHeader: string | undefined;
  /** The parsed single range, or null when absent, malformed or multiple. */
  range: ByteRange | null;
  ifRange: string | undefined;
  headers: IncomingMessage['headers'];
}

export type FaultPlan = (req: RequestInfo) => Fault | undefined;

export interface RequestRecord extends RequestInfo {
  status: number;
  fault: FaultKind | null;
  /** Body bytes handed to the socket (a cut or reset response may reach the client with fewer). */
  bytesSent: number;
  /** The range of the resource the body started at, for 200/206 answers. */
  bodyStart: number | null;
  startedAt: number;
  finishedAt: number | null;
  /** The response ended before its body was complete (fault, client gone, or server closed). */
  aborted: boolean;
}

export interface FaultServerOptions {
  /** The fault plan consulted for every request (can be replaced later with setPlan). */
  plan?: FaultPlan;
  /** Any response still open after this long is destroyed, so no test can hang on the server. */
  maxResponseMs?: number;
  /** Size of the pieces the body is written in. */
  writeSize?: number;
  /** Listen on this port instead of a free one (to bring an origin back where it was). */
  port?: number;
  /** Serve https with this key and certificate (see selfSignedCert). */
  tls?: { key: string; cert: string };
}

const FIXED_DATE = new Date('2024-01-02T03:04:05Z');

export class FaultServer {
  readonly requests: RequestRecord[] = [];
  private readonly server: Server;
  private readonly resources = new Map<string, Resource>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private plan: FaultPlan;
  private readonly maxResponseMs: number;
  private readonly writeSize: number;
  private readonly pathCounts = new Map<string, number>();
  private closed = false;
  private _port = 0;
  private readonly scheme: 'http' | 'https';
  /** TLS handshakes that failed (a client that refused the certificate). */
  tlsFailures = 0;

  private constructor(options: FaultServerOptions) {
    this.scheme = options.tls ? 'https' : 'http';
    this.plan = options.plan ?? (() => undefined);
    this.maxResponseMs = options.maxResponseMs ?? 60_000;
    this.writeSize = options.writeSize ?? 64 * 1024;
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end(String(err));
        } else res.destroy();
      });
    };
    this.server = options.tls ? createHttpsServer({ keepAlive: true, ...options.tls }, onRequest) : createServer({ keepAlive: true }, onRequest);
    this.server.on('tlsClientError', () => this.tlsFailures++);
    this.server.keepAliveTimeout = 5_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts a server on 127.0.0.1 on a free port. */
  static async start(options: FaultServerOptions = {}): Promise<FaultServer> {
    const s = new FaultServer(options);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    s._port = (s.server.address() as AddressInfo).port;
    return s;
  }

  get port(): number {
    return this._port;
  }

  get origin(): string {
    return `${this.scheme}://127.0.0.1:${this._port}`;
  }

  url(path: string): string {
    return this.origin + path;
  }

  /** Serves `body` at `path` (replacing what was there: a new default ETag follows from new bytes). */
  async serve(path: string, body: Body, options: ResourceOptions = {}): Promise<string> {
    const size = Buffer.isBuffer(body) ? body.length : (await stat(body.file)).size;
    const etag = options.etag === undefined ? await defaultEtag(body, size) : options.etag;
    this.resources.set(path, {
      body,
      size,
      etag,
      lastModified: options.lastModified === undefined ? FIXED_DATE : options.lastModified,
      acceptRanges: options.acceptRanges ?? true,
      contentLength: options.contentLength ?? true,
      contentType: options.contentType ?? 'application/octet-stream',
      unknownTotal: options.unknownTotal ?? false,
    });
    return this.url(path);
  }

  setPlan(plan: FaultPlan): void {
    this.plan = plan;
  }

  /** Body bytes handed to sockets so far, over all requests (or those for one path). */
  bodyBytesServed(path?: string): number {
    let total = 0;
    for (const r of this.requests) if (path === undefined || r.path === path) total += r.bytesSent;
    return total;
  }

  requestsFor(path: string, method?: string): RequestRecord[] {
    return this.requests.filter((r) => r.path === path && (method === undefined || r.method === method));
  }

  /** Ends every open connection (stalled bodies included) and stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsedUrl = new URL(req.url ?? '/', 'http://x');
    const path = parsedUrl.pathname;
    const nForPath = (this.pathCounts.get(path) ?? 0) + 1;
    this.pathCounts.set(path, nForPath);
    const rangeHeader = header(req, 'range');
    const info: RequestInfo = {
      n: this.requests.length + 1,
      nForPath,
      method: req.method ?? 'GET',
      path,
      query: parsedUrl.search,
      rangeHeader,
      range: null,
      ifRange: header(req, 'if-range'),
      headers: req.headers,
    };
    const record: RequestRecord = {
      ...info,
      status: 0,
      fault: null,
      bytesSent: 0,
      bodyStart: null,
      startedAt: Date.now(),
      finishedAt: null,
      aborted: false,
    };
    this.requests.push(record);

    const guard = setTimeout(() => res.destroy(), this.maxResponseMs);
    this.timers.add(guard);
    res.on('close', () => {
      clearTimeout(guard);
      this.timers.delete(guard);
      record.finishedAt = Date.now();
      if (!res.writableFinished) record.aborted = true;
    });

    let resource = this.resources.get(path);
    if (resource) info.range = parseRange(rangeHeader, resource.size);
    record.range = info.range;
    const fault = this.plan(info) ?? null;
    record.fault = fault?.kind ?? null;

    if (fault?.kind === 'reset') {
      record.aborted = true;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'redirect') {
      return this.respondEmpty(res, record, fault.status ?? 302, { location: fault.location });
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': fault.contentType ?? 'text/plain' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      return this.respondText(res, record, fault.status, fault.body ?? `status ${fault.status}\n`, headers);
    }
    if (!resource) return this.respondText(res, record, 404, 'not found\n', {});
    if (info.method !== 'GET' && info.method !== 'HEAD') {
      return this.respondText(res, record, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    }
    if (fault?.kind === 'head-refused' && info.method === 'HEAD') {
      return this.respondEmpty(res, record, 405, { allow: 'GET' });
    }
    if (fault?.kind === 'changed') {
      const body = fault.body ?? resource.body;
      resource = {
        ...resource,
        body,
        size: Buffer.isBuffer(body) ? body.length : resource.size,
        etag: fault.etag,
        // A resource without Last-Modified keeps sending none: only what the test names changes.
        lastModified: fault.lastModified ?? (resource.lastModified === null ? null : new Date(FIXED_DATE.getTime() + 86_400_000)),
      };
      info.range = record.range = parseRange(rangeHeader, resource.size);
    }
    if (fault?.kind === 'no-range-headers') resource = { ...resource, acceptRanges: false, contentLength: false };

    const headers: Record<string, string> = { 'content-type': resource.contentType };
    if (resource.etag !== null) headers['etag'] = resource.etag;
    if (resource.lastModified !== null) headers['last-modified'] = resource.lastModified.toUTCString();
    if (resource.acceptRanges) headers['accept-ranges'] = 'bytes';

    const honourRange = resource.acceptRanges && fault?.kind !== 'ignore-range' && rangeHeader !== undefined && ifRangeHolds(info.ifRange, resource);
    if (honourRange && fault?.kind === 'unsatisfiable') {
      return this.respondEmpty(res, record, 416, { ...headers, 'content-range': `bytes */${fault.total ?? resource.size}` });
    }
    if (honourRange && info.range === null && isSingleRange(rangeHeader)) {
      // A well-formed single range past the end: RFC 9110 §15.5.17.
      return this.respondEmpty(res, record, 416, { ...headers, 'content-range': `bytes */${resource.size}` });
    }

    let start = 0;
    let end = resource.size - 1;
    let status = 200;
    if (honourRange && info.range !== null) {
      ({ start, end } = info.range);
      status = 206;
      const claimed: { start?: number; end?: number; total?: number | '*' } = fault?.kind === 'wrong-content-range' ? fault : {};
      const total = claimed.total ?? (resource.unknownTotal ? '*' : resource.size);
      headers['content-range'] = `bytes ${claimed.start ?? start}-${claimed.end ?? end}/${total}`;
      if (fault?.kind === 'wrong-content-range' && fault.honest) {
        start = claimed.start ?? start;
        end = claimed.end ?? end;
      }
    }
    const length = end - start + 1;
    if (resource.contentLength) headers['content-length'] = String(Math.max(0, length));
    if (fault?.kind === 'head-length' && info.method === 'HEAD') headers['content-length'] = String(fault.length);
    record.status = status;
    record.bodyStart = start;
    if (fault?.kind === 'content-encoding' && info.method === 'GET') {
      const reader = await BodyReader.open(resource.body);
      const encoded = gzipSync(await reader.read(start, length));
      await reader.close();
      record.bytesSent = encoded.length;
      // Compressing proxies stream their output: chunked, no Content-Length to betray the coding.
      delete headers['content-length'];
      res.writeHead(status, { ...headers, 'content-encoding': 'gzip' });
      res.end(encoded);
      return;
    }
    if (fault?.kind === 'overlong-body' && info.method === 'GET') {
      delete headers['content-length'];
      res.writeHead(status, headers);
      res.flushHeaders();
      await this.writeBody(req, res, record, resource.body, start, resource.size - start, null);
      return;
    }
    res.writeHead(status, headers);
    if (info.method === 'HEAD' || length <= 0) {
      res.end();
      return;
    }
    if (!resource.contentLength) res.flushHeaders();
    await this.writeBody(req, res, record, resource.body, start, length, fault);
  }

  private respondEmpty(res: ServerResponse, record: RequestRecord, status: number, headers: Record<string, string>): void {
    record.status = status;
    res.writeHead(status, { ...headers, 'content-length': '0' });
    res.end();
  }

  private respondText(res: ServerResponse, record: RequestRecord, status: number, text: string, headers: Record<string, string>): void {
    record.status = status;
    const body = Buffer.from(text);
    res.writeHead(status, { ...headers, 'content-length': String(body.length) });
    // Error bodies are not payload: bytesSent counts only bytes of a served resource.
    res.end(record.method === 'HEAD' ? undefined : body);
  }

  /** Writes [start, start+length) of the body in pieces, applying a body-level fault on the way. */
  private async writeBody(req: IncomingMessage, res: ServerResponse, record: RequestRecord, body: Body, start: number, length: number, fault: Fault | null): Promise<void> {
    let limit = length;
    let pause: { at: number; ms: number | undefined } | null = null;
    let piece = this.writeSize;
    let everyMs = 0;
    if (fault?.kind === 'cut') limit = Math.min(length, fault.afterBytes);
    if (fault?.kind === 'stall') pause = { at: Math.min(length, fault.afterBytes ?? 0), ms: fault.ms };
    if (fault?.kind === 'trickle') {
      piece = Math.max(1, fault.bytes);
      everyMs = fault.everyMs;
    }

    const gone = () => this.closed || res.destroyed || req.socket.destroyed;
    const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
    const reader = await BodyReader.open(body);
    try {
      let sent = 0;
      while (sent < limit && !gone()) {
        if (pause && sent === pause.at) {
          if (pause.ms === undefined) {
            // Stalled for good: the client's idle timeout, the response guard or close() ends it.
            await closed;
            return;
          }
          await this.sleep(pause.ms);
          pause = null;
          continue;
        }
        let n = Math.min(piece, limit - sent);
        if (pause && sent < pause.at) n = Math.min(n, pause.at - sent);
        const chunk = await reader.read(start + sent, n);
        if (gone()) break;
        record.bytesSent += chunk.length;
        sent += chunk.length;
        if (limit < length) {
          // Cutting: each piece must reach the client before the socket is destroyed.
          await Promise.race([new Promise<void>((resolve) => res.write(chunk, () => resolve())), closed]);
        } else if (!res.write(chunk)) await waitDrain(res);
        if (everyMs > 0 && sent < limit) await this.sleep(everyMs);
      }
      if (gone()) return;
      if (limit < length) {
        // The promised Content-Length is never reached: break the connection mid-body.
        res.destroy();
        return;
      }
      res.end();
    } finally {
      await reader.close();
    }
  }
}

class BodyReader {
  private constructor(
    private readonly buffer: Buffer | null,
    private readonly handle: FileHandle | null,
  ) {}

  static async open(body: Body): Promise<BodyReader> {
    if (Buffer.isBuffer(body)) return new BodyReader(body, null);
    return new BodyReader(null, await open(body.file, 'r'));
  }

  async read(position: number, length: number): Promise<Buffer> {
    if (this.buffer) return this.buffer.subarray(position, position + length);
    const out = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.handle!.read(out, 0, length, position);
    return out.subarray(0, bytesRead);
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isSingleRange(value: string | undefined): boolean {
  return value !== undefined && /^bytes=\s*(\d+-\d*|-\d+)\s*$/.test(value);
}

/** A single byte range clipped to the size, or null (absent, malformed, multiple, or unsatisfiable). */
export function parseRange(value: string | undefined, size: number): ByteRange | null {
  if (value === undefined) return null;
  const m = /^bytes=\s*(\d*)-(\d*)\s*$/.exec(value);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

/**
 * If-Range (RFC 9110 §13.1.5): an entity tag matches only by strong comparison (never a weak tag);
 * a date matches only the exact Last-Modified. Without If-Range the range always applies.
 */
function ifRangeHolds(ifRange: string | undefined, resource: Resource): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    return !value.startsWith('W/') && resource.etag !== null && !resource.etag.startsWith('W/') && value === resource.etag;
  }
  return resource.lastModified !== null && value === resource.lastModified.toUTCString();
}

async function defaultEtag(body: Body, size: number): Promise<string> {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(body)) hash.update(body);
  else {
    const reader = await BodyReader.open(body);
    try {
      for (let pos = 0; pos < size; pos += 1 << 20) hash.update(await reader.read(pos, Math.min(1 << 20, size - pos)));
    } finally {
      await reader.close();
    }
  }
  return `"${hash.digest('hex').slice(0, 24)}"`;
}

// ---- Plans -----------------------------------------------------------------------------------------

export type RequestMatcher = (req: RequestInfo) => boolean;

/** Ranged GETs (the ones a chunk fetch sends), optionally only those covering `offset`. */
export function rangedGet(offset?: number): RequestMatcher {
  return (r) => r.method === 'GET' && r.range !== null && (offset === undefined || (r.range.start <= offset && offset <= r.range.end));
}

/** A ranged GET for a chunk covering `offset`: not the probe's one-byte `bytes=0-0`. */
export function chunkGet(offset: number): RequestMatcher {
  return (r) => rangedGet(offset)(r) && r.range!.end > r.range!.start;
}

export const anyGet: RequestMatcher = (r) => r.method === 'GET';

/** The fault for the first `times` requests that match (default once), then nothing. */
export function faultTimes(match: RequestMatcher, fault: Fault, times = 1): FaultPlan {
  let left = times;
  return (r) => {
    if (left > 0 && match(r)) {
      left--;
      return fault;
    }
    return undefined;
  };
}

/** The fault for every matching request from the moment it is installed. */
export function faultAlways(match: RequestMatcher, fault: Fault): FaultPlan {
  return (r) => (match(r) ? fault : undefined);
}

/** The fault for every request numbered `n` or later (server-wide numbering). */
export function faultFrom(n: number, fault: Fault, match: RequestMatcher = () => true): FaultPlan {
  return (r) => (r.n >= n && match(r) ? fault : undefined);
}

/** The first plan that returns a fault wins; later plans do not see that request (nothing is used up). */
export function combinePlans(...plans: FaultPlan[]): FaultPlan {
  return (r) => {
    for (const plan of plans) {
      const f = plan(r);
      if (f !== undefined) return f;
    }
    return undefined;
  };
}

/** A URL on 127.0.0.1 where nothing listens (a port that was just free). */
export async function closedPortUrl(path = '/'): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}

/** A self-signed certificate for 127.0.0.1, made by `openssl req -x509` in `dir` (no CA trusts it). */
export function selfSignedCert(dir: string): { key: string; cert: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    {
      stdio: 'ignore',
    },
  );
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

/**
 * A raw TCP origin on 127.0.0.1 that answers every request with `response` (bytes as they go on the wire),
 * for answers node:http would refuse to produce (oversized headers). Counts the connections it took.
 */
export async function rawServer(response: Buffer): Promise<{ url: (path: string) => string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end(response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    connections: () => connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
