// Self-tests of the fault server: the engine's fault tests are only as good as the faults are real.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultServer, closedPortUrl, faultTimes, rangedGet, combinePlans, faultAlways, parseRange } from '../../harness/fault-server';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body ended with an error (reset, premature close) instead of a clean end. */
  error: string | null;
  elapsedMs: number;
}

/** A plain node:http request that keeps whatever body arrived, even when the connection breaks. */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<RawResponse> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      let settled = false;
      const finish = (error: string | null) => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), error, elapsedMs: Date.now() - started });
      };
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => finish(null));
      res.on('error', (e) => finish(e.message));
      res.on('aborted', () => finish('aborted'));
      res.on('close', () => finish(res.complete ? null : 'closed before the end'));
    });
    req.setTimeout(options.timeoutMs ?? 5_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end();
  });
}

const data = randomBytes(300_000);
const dir = mkdtempSync(join(tmpdir(), 'fault-server-'));
const filePath = join(dir, 'blob.bin');
writeFileSync(filePath, data);
after(() => rmSync(dir, { recursive: true, force: true }));

async function withServer(fn: (s: FaultServer, url: string) => Promise<void>): Promise<void> {
  const s = await FaultServer.start({ maxResponseMs: 10_000 });
  try {
    await fn(s, await s.serve('/blob', data));
  } finally {
    await s.close();
  }
}

test('parseRange reads single ranges and rejects the rest', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=95-200', 100), { start: 95, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.equal(parseRange('bytes=100-', 100), null);
  assert.equal(parseRange('bytes=0-1,5-6', 100), null);
  assert.equal(parseRange('items=0-1', 100), null);
});

test('HEAD, full GET and ranged GET carry the right headers and bytes, from a buffer and a file', async () => {
  await withServer(async (s, url) => {
    const fileUrl = await s.serve('/file', { file: filePath });
    for (const u of [url, fileUrl]) {
      const head = await raw(u, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], String(data.length));
      assert.equal(head.headers['accept-ranges'], 'bytes');
      assert.match(String(head.headers['etag']), /^"[0-9a-f]+"$/);
      assert.ok(head.headers['last-modified']);
      assert.equal(head.body.length, 0);

      const full = await raw(u);
      assert.equal(full.status, 200);
      assert.ok(full.body.equals(data));

      const part = await raw(u, { headers: { range: 'bytes=1000-199999' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers['content-range'], `bytes 1000-199999/${data.length}`);
      assert.ok(part.body.equals(data.subarray(1000, 200000)));
    }
    // The same bytes give the same ETag whether from memory or disk.
    assert.equal(s.requests[0]!.status, 200);
    assert.equal(s.bodyBytesServed('/blob'), data.length + 199000);
    assert.equal(s.bodyBytesServed('/file'), data.length + 199000);
  });
});

test('If-Range: a matching strong ETag gives 206, a different or weak one the full 200', async () => {
  await withServer(async (s, url) => {
    const etag = String((await raw(url, { method: 'HEAD' })).headers['etag']);
    const ok = await raw(url, { headers: { range: 'bytes=10-19', 'if-range': etag } });
    assert.equal(ok.status, 206);
    const other = await raw(url, { headers: { range: 'bytes=10-19', 'if-range': '"something-else"' } });
    assert.equal(other.status, 200);
    assert.equal(other.body.length, data.length);
    await s.serve('/weak', data, { etag: 'W/"abc"' });
    const weak = await raw(s.url('/weak'), { headers: { range: 'bytes=10-19', 'if-range': 'W/"abc"' } });
    assert.equal(weak.status, 200, 'a weak ETag never satisfies If-Range');
  });
});

test('a range past the end is 416 with bytes */size', async () => {
  await withServer(async (_s, url) => {
    const r = await raw(url, { headers: { range: `bytes=${data.length}-` } });
    assert.equal(r.status, 416);
    assert.equal(r.headers['content-range'], `bytes */${data.length}`);
  });
});

test('fault: ignore-range answers 200 with the whole body', async () => {
  await withServer(async (s, url) => {
    s.setPlan(faultTimes(rangedGet(), { kind: 'ignore-range' }));
    const r = await raw(url, { headers: { range: 'bytes=100-199' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-range'], undefined);
    assert.ok(r.body.equals(data));
    assert.equal((await raw(url, { headers: { range: 'bytes=100-199' } })).status, 206, 'only once');
  });
});

test('fault: wrong Content-Range lies about start, end or total', async () => {
  await withServer(async (s, url) => {
    s.setPlan(faultAlways(rangedGet(), { kind: 'wrong-content-range', start: 101 }));
    const r = await raw(url, { headers: { range: 'bytes=100-199' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], `bytes 101-199/${data.length}`);
    s.setPlan(faultAlways(rangedGet(), { kind: 'wrong-content-range', total: 5 }));
    assert.equal((await raw(url, { headers: { range: 'bytes=100-199' } })).headers['content-range'], 'bytes 100-199/5');
  });
});

test('fault: changed serves a new ETag and other bytes, and If-Range with the old ETag then gets 200', async () => {
  await withServer(async (s, url) => {
    const oldEtag = String((await raw(url, { method: 'HEAD' })).headers['etag']);
    const newBytes = Buffer.alloc(data.length, 7);
    s.setPlan(faultAlways(() => true, { kind: 'changed', etag: '"v2"', body: newBytes }));
    const r = await raw(url, { headers: { range: 'bytes=0-99', 'if-range': oldEtag } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['etag'], '"v2"');
    assert.ok(r.body.equals(newBytes));
    const noIfRange = await raw(url, { headers: { range: 'bytes=0-99' } });
    assert.equal(noIfRange.status, 206);
    assert.ok(noIfRange.body.equals(newBytes.subarray(0, 100)));
  });
});

test('fault: cut sends the full Content-Length, then exactly N bytes and a broken connection', async () => {
  await withServer(async (s, url) => {
    s.setPlan(faultTimes(rangedGet(), { kind: 'cut', afterBytes: 150_000 }));
    const r = await raw(url, { headers: { range: 'bytes=0-299999' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-length'], '300000');
    assert.notEqual(r.error, null, 'the body must end in an error');
    assert.equal(r.body.length, 150_000);
    assert.ok(r.body.equals(data.subarray(0, 150_000)));
    assert.equal(s.requests.at(-1)!.bytesSent, 150_000);
    assert.equal(s.requests.at(-1)!.aborted, true);
  });
});

test('fault: stall for a while sends headers, pauses, then completes; a forever stall ends at close()', async () => {
  await withServer(async (s, url) => {
    s.setPlan(faultTimes(rangedGet(), { kind: 'stall', afterBytes: 1000, ms: 300 }));
    const r = await raw(url, { headers: { range: 'bytes=0-9999' } });
    assert.equal(r.error, null);
    assert.ok(r.body.equals(data.subarray(0, 10_000)));
    assert.ok(r.elapsedMs >= 280, `took ${r.elapsedMs} ms`);

    s.setPlan(faultTimes(rangedGet(), { kind: 'stall' }));
    const pending = raw(url, { headers: { range: 'bytes=0-9999' }, timeoutMs: 10_000 });
    await new Promise((r2) => setTimeout(r2, 200));
    const started = Date.now();
    await s.close();
    const stalled = await pending.catch((e: Error) => ({ error: e.message, body: Buffer.alloc(0), status: 0 }));
    assert.ok(Date.now() - started < 2_000);
    assert.notEqual(stalled.error, null);
    assert.equal(stalled.body.length, 0);
  });
});

test('fault: trickle keeps progressing until the body is complete', async () => {
  await withServer(async (s, url) => {
    s.setPlan(faultTimes(rangedGet(), { kind: 'trickle', bytes: 1000, everyMs: 20 }));
    const r = await raw(url, { headers: { range: 'bytes=0-9999' } });
    assert.equal(r.error, null);
    assert.ok(r.body.equals(data.subarray(0, 10_000)));
    assert.ok(r.elapsedMs >= 150, `took ${r.elapsedMs} ms`);
  });
});

test('fault: status with Retry-After, 416 with a given total, 404 at request N', async () => {
  await withServer(async (s, url) => {
    s.setPlan(
      combinePlans(
        faultTimes((r) => r.n === 1, { kind: 'status', status: 503, retryAfter: 2 }),
        faultTimes((r) => r.n === 2, { kind: 'status', status: 429, retryAfter: 'Wed, 21 Oct 2015 07:28:00 GMT' }),
        faultTimes((r) => r.n === 3, { kind: 'unsatisfiable', total: 1234 }),
        faultTimes((r) => r.n === 4, { kind: 'status', status: 404 }),
      ),
    );
    const a = await raw(url, { headers: { range: 'bytes=0-9' } });
    assert.equal(a.status, 503);
    assert.equal(a.headers['retry-after'], '2');
    const b = await raw(url, { headers: { range: 'bytes=0-9' } });
    assert.equal(b.status, 429);
    assert.equal(b.headers['retry-after'], 'Wed, 21 Oct 2015 07:28:00 GMT');
    const c = await raw(url, { headers: { range: 'bytes=0-9' } });
    assert.equal(c.status, 416);
    assert.equal(c.headers['content-range'], 'bytes */1234');
    assert.equal((await raw(url, { headers: { range: 'bytes=0-9' } })).status, 404);
    assert.equal((await raw(url, { headers: { range: 'bytes=0-9' } })).status, 206);
    assert.equal(s.bodyBytesServed(), 10, 'error bodies are not counted as payload');
  });
});

test('fault: redirect to another path and to another server', async () => {
  await withServer(async (s, url) => {
    const other = await FaultServer.start();
    try {
      await other.serve('/there', data);
      s.setPlan(
        combinePlans(
          faultAlways((r) => r.path === '/moved', { kind: 'redirect', location: '/blob', status: 301 }),
          faultAlways((r) => r.path === '/away', { kind: 'redirect', location: other.url('/there') }),
        ),
      );
      const moved = await raw(s.url('/moved'));
      assert.equal(moved.status, 301);
      assert.equal(moved.headers['location'], '/blob');
      const away = await raw(s.url('/away'));
      assert.equal(away.status, 302);
      assert.equal(away.headers['location'], other.url('/there'));
      assert.notEqual(other.port, s.port);
      assert.ok((await raw(other.url('/there'))).body.equals(data));
      assert.ok((await raw(url)).body.equals(data));
    } finally {
      await other.close();
    }
  });
});

test('fault: HEAD refused, and HEAD/GET without Accept-Ranges or Content-Length', async () => {
  await withServer(async (s, url) => {
    s.setPlan(faultTimes((r) => r.method === 'HEAD', { kind: 'head-refused' }));
    assert.equal((await raw(url, { method: 'HEAD' })).status, 405);
    s.setPlan(faultAlways(() => true, { kind: 'no-range-headers' }));
    const head = await raw(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['accept-ranges'], undefined);
    assert.equal(head.headers['content-length'], undefined);
    const get = await raw(url, { headers: { range: 'bytes=0-9' } });
    assert.equal(get.status, 200, 'Range is ignored without range support');
    assert.equal(get.headers['transfer-encoding'], 'chunked');
    assert.ok(get.body.equals(data));
    const noRanges = await s.serve('/plain', data, { acceptRanges: false });
    assert.equal((await raw(noRanges, { headers: { range: 'bytes=0-9' } })).status, 200);
  });
});

test('fault: reset drops the connection before any response; a closed port refuses', async () => {
  await withServer(async (s, url) => {
    s.setPlan(faultTimes(() => true, { kind: 'reset' }));
    await assert.rejects(raw(url), /socket hang up|ECONNRESET/);
    assert.equal((await raw(url)).status, 200);
  });
  await assert.rejects(raw(await closedPortUrl('/x')), /ECONNREFUSED/);
});

test('every request is recorded with method, range, status, fault and bytes', async () => {
  await withServer(async (s, url) => {
    s.setPlan(faultTimes(rangedGet(5000), { kind: 'cut', afterBytes: 10 }));
    await raw(url, { method: 'HEAD' });
    await raw(url, { headers: { range: 'bytes=0-99' } });
    await raw(url, { headers: { range: 'bytes=4096-8191' } });
    const [head, first, cut] = s.requests;
    assert.deepEqual([head!.method, head!.status, head!.bytesSent, head!.range], ['HEAD', 200, 0, null]);
    assert.deepEqual([first!.method, first!.status, first!.bytesSent, first!.fault], ['GET', 206, 100, null]);
    assert.deepEqual(cut!.range, { start: 4096, end: 8191 });
    assert.deepEqual([cut!.fault, cut!.bytesSent, cut!.nForPath, cut!.n], ['cut', 10, 3, 3]);
    assert.equal(s.requestsFor('/blob', 'GET').length, 2);
  });
});

test('changed without an ETag: If-Range with the old date gets the whole new file', async () => {
  await withServer(async (s) => {
    const dated = await s.serve('/dated', data, { etag: null });
    const head = await raw(dated, { method: 'HEAD' });
    assert.equal(head.headers['etag'], undefined);
    const date = String(head.headers['last-modified']);
    assert.equal((await raw(dated, { headers: { range: 'bytes=0-9', 'if-range': date } })).status, 206);
    s.setPlan(faultAlways(() => true, { kind: 'changed', etag: null }));
    const r = await raw(dated, { headers: { range: 'bytes=0-9', 'if-range': date } });
    assert.equal(r.status, 200);
    assert.notEqual(r.headers['last-modified'], date);
  });
});

test('an origin can come back on the port it had', async () => {
  const first = await FaultServer.start();
  const port = first.port;
  await first.close();
  await assert.rejects(raw(`http://127.0.0.1:${port}/`), /ECONNREFUSED/);
  const again = await FaultServer.start({ port });
  try {
    await again.serve('/blob', data);
    assert.equal((await raw(again.url('/blob'), { method: 'HEAD' })).status, 200);
  } finally {
    await again.close();
  }
});
