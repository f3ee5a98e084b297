// The relay must be exact when it injects nothing, and do precisely the fault it is asked for: a benchmark
// of recovery is only as honest as its faults. Real nginx on a free loopback port behind it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, Agent, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNginx, type Nginx } from '../../harness/nginx';
import { optedOut } from '../../harness/opt-out';
import { Relay } from '../relay';

const SIZE = 1024 * 1024;
const data = randomBytes(SIZE);
let dir = '';
let nginx: Nginx;

const skip = optedOut('SKIP_NGINX');

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'relay-test-'));
  writeFileSync(join(dir, 'file.bin'), data);
  nginx = await startNginx({ root: dir });
});

after(async () => {
  if (skip) return;
  await nginx.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Got {
  status: number;
  body: Buffer;
  ended: boolean;
}

function get(url: string, options: { method?: string; agent?: Agent; range?: string; waitMs?: number } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', agent: options.agent, headers: options.range ? { range: options.range } : {} }, (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      let timer: NodeJS.Timeout | null = null;
      const finish = (ended: boolean) => {
        if (timer) clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), ended });
      };
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => finish(true));
      res.on('error', () => finish(false));
      res.on('aborted', () => finish(false));
      if (options.waitMs) timer = setTimeout(() => (res.destroy(), finish(false)), options.waitMs);
    });
    req.on('error', reject);
    req.end();
  });
}

test('relay without faults passes HEAD and ranged GETs on one keep-alive connection byte for byte', { skip }, async () => {
  const relay = await Relay.start(nginx.port);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const head = await get(relay.url('file.bin'), { method: 'HEAD', agent });
    assert.equal(head.status, 200);
    const a = await get(relay.url('file.bin'), { agent, range: 'bytes=0-99999' });
    const b = await get(relay.url('file.bin'), { agent, range: 'bytes=100000-' });
    assert.equal(a.status, 206);
    assert.deepEqual(Buffer.concat([a.body, b.body]), data);
    assert.equal(relay.connections, 1);
    assert.equal(relay.bodyBytes, SIZE);
    assert.equal(relay.responses, 2);
    assert.deepEqual(relay.faults, []);
  } finally {
    agent.destroy();
    await relay.close();
  }
});

test('a forced cut closes the connection at that body offset, once', { skip }, async () => {
  const relay = await Relay.start(nginx.port, { cutRate: 0, stallRate: 0, seed: 1, forceCutAt: 300_000, forceStallAt: null, stallMaxMs: 1000 });
  try {
    const first = await get(relay.url('file.bin'));
    assert.equal(first.body.length, 300_000);
    assert.deepEqual(first.body, data.subarray(0, 300_000));
    const second = await get(relay.url('file.bin'));
    assert.equal(second.ended, true);
    assert.deepEqual(second.body, data);
    assert.equal(relay.faults.length, 1);
    assert.equal(relay.faults[0]!.kind, 'cut');
    assert.equal(relay.faults[0]!.bodyOffset, 300_000);
  } finally {
    await relay.close();
  }
});

test('a forced stall keeps the connection open and silent until the client gives up', { skip }, async () => {
  const relay = await Relay.start(nginx.port, { cutRate: 0, stallRate: 0, seed: 1, forceCutAt: null, forceStallAt: 200_000, stallMaxMs: 30_000 });
  try {
    const started = Date.now();
    const got = await get(relay.url('file.bin'), { waitMs: 600 });
    assert.equal(got.ended, false);
    assert.ok(Date.now() - started >= 550, 'the response did not stay open');
    assert.deepEqual(got.body, data.subarray(0, 200_000));
    assert.equal(relay.faults[0]!.kind, 'stall');
  } finally {
    await relay.close();
  }
});

test('random faults at rate 1 hit every response with a body, and never a HEAD', { skip }, async () => {
  const relay = await Relay.start(nginx.port, { cutRate: 1, stallRate: 0, seed: 3, forceCutAt: null, forceStallAt: null, stallMaxMs: 1000 });
  try {
    const head = await get(relay.url('file.bin'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    const got = await get(relay.url('file.bin'));
    assert.ok(got.body.length >= SIZE * 0.1 && got.body.length < SIZE * 0.9, `cut at ${got.body.length}`);
    assert.equal(relay.faults.length, 1);
  } finally {
    await relay.close();
  }
});

test('the rate cap holds a connection to its rate from the first byte', { skip }, async () => {
  const relay = await Relay.start(nginx.port);
  relay.setRateLimit(4 * 1024 * 1024);
  try {
    const started = performance.now();
    const got = await get(relay.url('file.bin'));
    const seconds = (performance.now() - started) / 1000;
    assert.deepEqual(got.body, data);
    // 1 MiB at 4 MiB/s: 0.25 s, less the small pieces sent before the clock runs ahead.
    assert.ok(seconds >= 0.2, `took ${seconds} s`);
    assert.ok(seconds < 2, `took ${seconds} s`);
  } finally {
    await relay.close();
  }
});

test('onceBodyBytes fires once when the count is reached', { skip }, async () => {
  const relay = await Relay.start(nginx.port);
  let fired = 0;
  let firedAt = -1;
  relay.onceBodyBytes(SIZE / 2, () => {
    fired++;
    firedAt = relay.bodyBytes;
  });
  try {
    await get(relay.url('file.bin'));
    await get(relay.url('file.bin'));
    assert.equal(fired, 1);
    assert.ok(firedAt >= SIZE / 2 && firedAt <= SIZE / 2 + 256 * 1024, `fired at ${firedAt}`);
  } finally {
    await relay.close();
  }
});
