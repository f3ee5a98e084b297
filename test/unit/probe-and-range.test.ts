import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createDispatcher } from '../../electron/engine/transfer/http';
import { probe, parseContentRange, validateUrl } from '../../electron/engine/transfer/probe';
import { fetchRange, type RangeSink } from '../../electron/engine/transfer/range-fetch';
import { EngineError } from '../../electron/engine/errors';
import { FaultServer, faultAlways, faultTimes, rangedGet } from '../../harness/fault-server';

const body = randomBytes(300_000);

class MemorySink implements RangeSink {
  parts: Buffer[] = [];
  committed = 0;
  async write(data: Buffer) {
    this.parts.push(Buffer.from(data));
    this.committed += data.length;
  }
  get data() {
    return Buffer.concat(this.parts);
  }
}

async function withServer(fn: (s: FaultServer, url: string) => Promise<void>) {
  const s = await FaultServer.start({ maxResponseMs: 10_000 });
  const url = await s.serve('/snap.tar.gz', body);
  try {
    await fn(s, url);
  } finally {
    await s.close();
  }
}

const dispatcher = () => createDispatcher({ connections: 2, connectTimeoutMs: 2000, idleTimeoutMs: 500 });
const code = (c: string) => (err: unknown) => err instanceof EngineError && err.code === c;

test('probe learns size, ranges, strong ETag and Last-Modified from HEAD', async () => {
  await withServer(async (s, url) => {
    const d = dispatcher();
    const p = await probe(url, { dispatcher: d });
    assert.equal(p.size, body.length);
    assert.equal(p.rangeSupported, true);
    assert.match(p.etag ?? '', /^"/);
    assert.ok(p.lastModified);
    assert.equal(s.requests[0]!.method, 'HEAD');
    await d.close();
  });
});

test('probe falls back to a bytes=0-0 GET when HEAD is refused', async () => {
  await withServer(async (s, url) => {
    s.setPlan(faultAlways((r) => r.method === 'HEAD', { kind: 'head-refused' }));
    const d = dispatcher();
    const p = await probe(url, { dispatcher: d });
    assert.equal(p.size, body.length);
    assert.equal(p.rangeSupported, true);
    assert.equal(s.requests[1]!.rangeHeader, 'bytes=0-0');
    assert.ok(s.bodyBytesServed() <= 1, 'the probe reads one byte at most');
    await d.close();
  });
});

test('probe reports a server without range support, reading no body', async () => {
  await withServer(async (s, url) => {
    s.setPlan(faultAlways(() => true, { kind: 'no-range-headers' }));
    s.setPlan((r) => (r.method === 'HEAD' ? { kind: 'no-range-headers' } : { kind: 'ignore-range' }));
    const d = dispatcher();
    const p = await probe(url, { dispatcher: d });
    assert.equal(p.rangeSupported, false);
    await d.close();
  });
});

test('probe follows redirects to another host, pins the final URL, and caps hops', async () => {
  await withServer(async (s, url) => {
    const front = await FaultServer.start();
    try {
      await front.serve('/r', Buffer.alloc(0));
      front.setPlan(faultAlways(() => true, { kind: 'redirect', location: url, status: 302 }));
      const d = dispatcher();
      const p = await probe(front.url('/r'), { dispatcher: d });
      assert.equal(p.finalUrl, url);
      assert.equal(p.size, body.length);
      front.setPlan(faultAlways(() => true, { kind: 'redirect', location: '/r', status: 301 }));
      await assert.rejects(probe(front.url('/r'), { dispatcher: d, maxRedirects: 3 }), code('E_REDIRECT'));
      await d.close();
    } finally {
      await front.close();
    }
    void s;
  });
});

test('probe: 404 is a clear permanent error', async () => {
  await withServer(async (_s, url) => {
    const d = dispatcher();
    await assert.rejects(probe(url.replace('snap', 'missing'), { dispatcher: d }), (err: unknown) => {
      return err instanceof EngineError && err.code === 'E_HTTP_STATUS' && !err.retryable && /404/.test(err.message);
    });
    await d.close();
  });
});

test('bad URLs and schemes are usage errors', () => {
  assert.throws(() => validateUrl('not a url'), code('E_USAGE'));
  assert.throws(() => validateUrl('ftp://example.com/x'), code('E_USAGE'));
  assert.throws(() => validateUrl('http://user:pw@example.com/x'), code('E_USAGE'));
});

test('Content-Range parsing', () => {
  assert.deepEqual(parseContentRange('bytes 0-99/1000'), { start: 0, end: 99, total: 1000 });
  assert.deepEqual(parseContentRange('bytes */1000'), { start: -1, end: -1, total: 1000 });
  assert.deepEqual(parseContentRange('bytes 5-9/*'), { start: 5, end: 9, total: null });
  assert.equal(parseContentRange('items 0-1/2'), null);
});

async function pinned(url: string) {
  const d = dispatcher();
  const p = await probe(url, { dispatcher: d });
  return { d, pinned: { size: p.size!, etag: p.etag, lastModified: p.lastModified } };
}

test('range fetch: exact bytes with If-Range sent', async () => {
  await withServer(async (s, url) => {
    const { d, pinned: pin } = await pinned(url);
    const sink = new MemorySink();
    const r = await fetchRange({ dispatcher: d, url, start: 1000, end: 200_999, pinned: pin, sink });
    assert.equal(r.status, 206);
    assert.ok(sink.data.equals(body.subarray(1000, 201_000)));
    const get = s.requestsFor('/snap.tar.gz', 'GET')[0]!;
    assert.equal(get.ifRange, pin.etag);
    await d.close();
  });
});

test('range fetch: a cut body keeps the committed prefix and the next attempt continues from it', async () => {
  await withServer(async (s, url) => {
    const { d, pinned: pin } = await pinned(url);
    s.setPlan(faultTimes(rangedGet(), { kind: 'cut', afterBytes: 70_000 }));
    const sink = new MemorySink();
    await assert.rejects(fetchRange({ dispatcher: d, url, start: 0, end: 249_999, pinned: pin, sink }), code('E_SHORT_BODY'));
    assert.ok(sink.committed > 0 && sink.committed <= 70_000);
    const before = sink.committed;
    await fetchRange({ dispatcher: d, url, start: 0, end: 249_999, pinned: pin, sink });
    assert.ok(sink.data.equals(body.subarray(0, 250_000)));
    const second = s.requestsFor('/snap.tar.gz', 'GET')[1]!;
    assert.equal(second.rangeHeader, `bytes=${before}-249999`);
    await d.close();
  });
});

test('range fetch: a 200 to a Range request is never written', async () => {
  await withServer(async (s, url) => {
    const { d, pinned: pin } = await pinned(url);
    s.setPlan(faultAlways(rangedGet(), { kind: 'ignore-range' }));
    const sink = new MemorySink();
    await assert.rejects(fetchRange({ dispatcher: d, url, start: 10, end: 99, pinned: pin, sink }), code('E_RANGE_IGNORED'));
    assert.equal(sink.committed, 0);
    await d.close();
  });
});

test('range fetch: a wrong Content-Range is rejected as retryable, nothing written', async () => {
  await withServer(async (s, url) => {
    const { d, pinned: pin } = await pinned(url);
    s.setPlan(faultAlways(rangedGet(), { kind: 'wrong-content-range', start: 11 }));
    const sink = new MemorySink();
    await assert.rejects(fetchRange({ dispatcher: d, url, start: 10, end: 99, pinned: pin, sink }), (err: unknown) => {
      return err instanceof EngineError && err.code === 'E_CONTENT_RANGE' && err.retryable;
    });
    assert.equal(sink.committed, 0);
    await d.close();
  });
});

test('range fetch: a changed ETag is "upstream changed", never spliced', async () => {
  await withServer(async (s, url) => {
    const { d, pinned: pin } = await pinned(url);
    s.setPlan(faultAlways(rangedGet(), { kind: 'changed', etag: '"new-version"', body: randomBytes(body.length) }));
    const sink = new MemorySink();
    await assert.rejects(fetchRange({ dispatcher: d, url, start: 0, end: 999, pinned: pin, sink }), code('E_UPSTREAM_CHANGED'));
    assert.equal(sink.committed, 0);
    await d.close();
  });
});

test('range fetch: a stall after headers trips the idle timeout; a trickle does not', async () => {
  await withServer(async (s, url) => {
    const { d, pinned: pin } = await pinned(url);
    s.setPlan(faultTimes(rangedGet(), { kind: 'stall', afterBytes: 1000 }));
    const sink = new MemorySink();
    const t0 = Date.now();
    await assert.rejects(fetchRange({ dispatcher: d, url, start: 0, end: 99_999, pinned: pin, sink }), code('E_IDLE_TIMEOUT'));
    assert.ok(Date.now() - t0 < 5000);
    // 20 KB every 200 ms: 2 s in all, four times the 500 ms idle timeout, and it completes.
    s.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 20_000, everyMs: 200 }));
    const sink2 = new MemorySink();
    await fetchRange({ dispatcher: d, url, start: 0, end: 199_999, pinned: pin, sink: sink2 });
    assert.ok(sink2.data.equals(body.subarray(0, 200_000)));
    await d.close();
  });
});

test('range fetch: 503 with Retry-After is retryable and carries the delay; 416 with another size is upstream changed', async () => {
  await withServer(async (s, url) => {
    const { d, pinned: pin } = await pinned(url);
    s.setPlan(faultTimes(rangedGet(), { kind: 'status', status: 503, retryAfter: 2 }));
    await assert.rejects(fetchRange({ dispatcher: d, url, start: 0, end: 9, pinned: pin, sink: new MemorySink() }), (err: unknown) => {
      return err instanceof EngineError && err.code === 'E_HTTP_STATUS' && err.retryable && (err as unknown as { retryAfterMs: number }).retryAfterMs === 2000;
    });
    s.setPlan(faultTimes(rangedGet(), { kind: 'unsatisfiable', total: 5 }));
    await assert.rejects(fetchRange({ dispatcher: d, url, start: 0, end: 9, pinned: pin, sink: new MemorySink() }), code('E_UPSTREAM_CHANGED'));
    s.setPlan(faultTimes(rangedGet(), { kind: 'status', status: 404 }));
    await assert.rejects(fetchRange({ dispatcher: d, url, start: 0, end: 9, pinned: pin, sink: new MemorySink() }), (err: unknown) => {
      return err instanceof EngineError && err.code === 'E_HTTP_STATUS' && !err.retryable;
    });
    await d.close();
  });
});
