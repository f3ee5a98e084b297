// A TCP relay in front of nginx on loopback that follows HTTP/1.1 response framing, so it can count what
// clients receive (throughput over time, kill at 50%) and inject faults nginx cannot: a response cut
// mid-body (the connection is closed early) or stalled mid-body (the connection stays open, silent).
// Working on bytes rather than through an HTTP library keeps its cost small next to the tools measured.
// It can also cap each connection's rate with a token bucket: nginx's limit_rate grants every request one
// second's worth of bytes up front, so range requests of a few MiB would pass it unthrottled.
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { prng } from './tree-gen';

export interface FaultPlan {
  /** Probability that a response with a body is cut, and that one is stalled. */
  cutRate: number;
  stallRate: number;
  seed: number;
  /** Body bytes served (all connections) at which a cut, and a stall, are forced if none has happened yet. */
  forceCutAt: number | null;
  forceStallAt: number | null;
  /** A stalled connection is closed after this long if the client has not given up. */
  stallMaxMs: number;
}

export interface FaultRecord {
  kind: 'cut' | 'stall';
  forced: boolean;
  atMs: number;
  response: number;
  bodyOffset: number;
  bodyLength: number;
}

/** Responses below this size are never faulted (probes and tiny bodies are not what the scenario is about). */
const MIN_FAULT_BODY = 64 * 1024;
const EMPTY: Buffer = Buffer.alloc(0);
const BURST_MS = 50;

export class Relay {
  /** Every byte sent to clients (headers included), and body bytes only. */
  bytesOut = 0;
  bodyBytes = 0;
  responses = 0;
  connections = 0;
  faults: FaultRecord[] = [];
  private plan: FaultPlan | null = null;
  private rand: () => number = Math.random;
  private cutDone = false;
  private stallDone = false;
  private startedAt = performance.now();
  private readonly sockets = new Set<Socket>();
  private rateLimit: number | null = null;
  private watcher: { bytes: number; fire: () => void } | null = null;

  private constructor(
    private readonly server: Server,
    private readonly upstreamPort: number,
  ) {}

  static async start(upstreamPort: number, plan: FaultPlan | null = null): Promise<Relay> {
    const server = createServer();
    const relay = new Relay(server, upstreamPort);
    relay.reset(plan);
    server.on('connection', (client) => relay.handle(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return relay;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}/${path.replace(/^\//, '')}`;
  }

  /** Caps every connection opened from now on at `bytesPerSecond` (null: no cap). */
  setRateLimit(bytesPerSecond: number | null): void {
    this.rateLimit = bytesPerSecond;
  }

  /** Calls `fire` once, as soon as this many body bytes have been sent since the last reset. */
  onceBodyBytes(bytes: number, fire: () => void): void {
    this.watcher = { bytes, fire };
  }

  /** Zeroes the counters and arms a new fault plan (null: relay only). */
  reset(plan: FaultPlan | null): void {
    this.plan = plan;
    this.rand = prng(plan?.seed ?? 1);
    this.bytesOut = this.bodyBytes = this.responses = this.connections = 0;
    this.faults = [];
    this.cutDone = this.stallDone = false;
    this.watcher = null;
    this.startedAt = performance.now();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(client: Socket): void {
    this.connections++;
    const upstream = connect(this.upstreamPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const methods: string[] = [];
    let requestText = '';
    let head: Buffer = EMPTY;
    let bodyLeft = 0;
    let bodyPos = 0;
    let bodyLength = 0;
    let response = 0;
    let planned: { kind: 'cut' | 'stall'; at: number } | null = null;
    let state: 'head' | 'body' | 'done' = 'head';
    let stallTimer: NodeJS.Timeout | null = null;

    const rate = this.rateLimit;
    // Throttling: pieces wait in `queue` until the connection's virtual clock allows them.
    const queue: Array<Buffer | 'end'> = [];
    let nextFreeAt = performance.now();
    let congested = false;
    let throttled = false;
    let pumpTimer: NodeJS.Timeout | null = null;
    const resumeIfClear = () => {
      if (!congested && !throttled && state !== 'done') upstream.resume();
    };
    const deliver = (data: Buffer) => {
      this.bytesOut += data.length;
      if (!client.write(data)) {
        congested = true;
        upstream.pause();
        client.once('drain', () => {
          congested = false;
          resumeIfClear();
        });
      }
    };
    const pump = () => {
      pumpTimer = null;
      while (queue.length) {
        const now = performance.now();
        const wait = nextFreeAt - now;
        if (wait > 10) {
          throttled = true;
          upstream.pause();
          pumpTimer = setTimeout(pump, wait);
          return;
        }
        const item = queue.shift()!;
        if (item === 'end') {
          client.end();
          return;
        }
        // A bucket of 50 ms: a timer that fires late on a busy machine is made up, a long idle gap is not.
        nextFreeAt = Math.max(now - BURST_MS, nextFreeAt) + (item.length / rate!) * 1000;
        deliver(item);
      }
      throttled = false;
      resumeIfClear();
    };
    const out = (data: Buffer) => {
      if (data.length === 0) return;
      if (rate === null) return deliver(data);
      queue.push(data);
      if (!pumpTimer) pump();
    };
    const endClient = () => {
      if (rate === null || (queue.length === 0 && !pumpTimer)) client.end();
      else queue.push('end');
    };
    const fault = (kind: 'cut' | 'stall', forced: boolean) => {
      state = 'done';
      if (kind === 'cut') this.cutDone = true;
      else this.stallDone = true;
      this.faults.push({ kind, forced, atMs: Math.round(performance.now() - this.startedAt), response, bodyOffset: bodyPos, bodyLength });
      upstream.destroy();
      if (kind === 'cut') endClient();
      else stallTimer = setTimeout(() => client.destroy(), this.plan?.stallMaxMs ?? 60_000);
    };
    const startResponse = (text: string) => {
      const status = Number(text.split(' ', 2)[1]);
      const method = methods.shift() ?? 'GET';
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      const noBody = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
      bodyLeft = noBody ? 0 : length ? Number(length[1]) : Infinity;
      bodyLength = bodyLeft;
      bodyPos = 0;
      planned = null;
      if (bodyLeft === 0) return;
      state = 'body';
      response = ++this.responses;
      const p = this.plan;
      if (p && bodyLeft >= MIN_FAULT_BODY && Number.isFinite(bodyLeft)) {
        const r = this.rand();
        const at = Math.floor(bodyLeft * (0.1 + 0.8 * this.rand()));
        if (r < p.cutRate) planned = { kind: 'cut', at };
        else if (r < p.cutRate + p.stallRate) planned = { kind: 'stall', at };
      }
    };
    /** Where in this piece (0..take) a fault fires, or -1. */
    const faultIn = (take: number): { at: number; kind: 'cut' | 'stall'; forced: boolean } | null => {
      const p = this.plan;
      let best: { at: number; kind: 'cut' | 'stall'; forced: boolean } | null = null;
      const consider = (at: number, kind: 'cut' | 'stall', forced: boolean) => {
        if (at >= 0 && at < take && (!best || at < best.at)) best = { at, kind, forced };
      };
      if (planned) consider(planned.at - bodyPos, planned.kind, false);
      if (p?.forceCutAt != null && !this.cutDone) consider(p.forceCutAt - this.bodyBytes, 'cut', true);
      if (p?.forceStallAt != null && !this.stallDone) consider(p.forceStallAt - this.bodyBytes, 'stall', true);
      return best;
    };

    client.on('data', (d: Buffer) => {
      // Requests carry no body (GET/HEAD): note each request's method so HEAD responses are framed right.
      requestText += d.toString('latin1');
      for (let i = requestText.indexOf('\r\n\r\n'); i >= 0; i = requestText.indexOf('\r\n\r\n')) {
        methods.push(requestText.slice(0, requestText.indexOf(' ')));
        requestText = requestText.slice(i + 4);
      }
      upstream.write(d);
    });
    upstream.on('data', (chunk: Buffer) => {
      let pending = chunk;
      while (pending.length > 0 && state !== 'done') {
        if (state === 'head') {
          head = head.length ? Buffer.concat([head, pending]) : pending;
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            out(pending);
            return;
          }
          const used = pending.length - (head.length - (end + 4));
          out(pending.subarray(0, used));
          startResponse(head.subarray(0, end).toString('latin1'));
          head = EMPTY;
          pending = pending.subarray(used);
          continue;
        }
        const take = Math.min(pending.length, bodyLeft);
        const f = faultIn(take);
        if (f) {
          out(pending.subarray(0, f.at));
          bodyPos += f.at;
          this.bodyBytes += f.at;
          fault(f.kind, f.forced);
          return;
        }
        out(pending.subarray(0, take));
        bodyPos += take;
        this.bodyBytes += take;
        if (this.watcher && this.bodyBytes >= this.watcher.bytes) {
          const fire = this.watcher.fire;
          this.watcher = null;
          fire();
        }
        bodyLeft -= take;
        pending = pending.subarray(take);
        if (bodyLeft === 0) state = 'head';
      }
    });
    const cleanup = () => {
      if (stallTimer) clearTimeout(stallTimer);
      if (pumpTimer) clearTimeout(pumpTimer);
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', () => {
      upstream.destroy();
      cleanup();
    });
    upstream.on('close', () => {
      if (state !== 'done') endClient();
    });
    client.on('error', () => undefined);
    upstream.on('error', () => client.destroy());
  }
}
