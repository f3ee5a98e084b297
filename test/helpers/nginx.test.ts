// Self-test of the nginx helper: it starts, serves real ranges, throttles, and stops for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { optedOut } from '../../harness/opt-out';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNginx } from '../../harness/nginx';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

test('nginx serves ranges with a strong ETag, throttles, and stops', async (t) => {
  const unavailable = optedOut('SKIP_NGINX');
  if (unavailable) return t.skip(unavailable);
  const root = mkdtempSync(join(tmpdir(), 'nginx-root-'));
  const data = randomBytes(640 * 1024);
  writeFileSync(join(root, 'blob.bin'), data);
  const nginx = await startNginx({ root, limitRate: '256k' });
  try {
    const part = await get(nginx.url('/blob.bin'), { range: 'bytes=1000-1999' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 1000-1999/${data.length}`);
    assert.ok(part.body.equals(data.subarray(1000, 2000)));
    assert.match(String(part.headers['etag']), /^"[^"]+"$/, 'nginx sends a strong ETag');

    // nginx lets the first second's worth through at once: the other 384 KiB take about 1.5 s.
    const started = Date.now();
    const full = await get(nginx.url('/blob.bin'));
    const ms = Date.now() - started;
    assert.ok(full.body.equals(data));
    assert.ok(ms >= 900, `limit_rate not applied: ${ms} ms`);
    assert.ok(nginx.accessLog().some((l) => l.includes('206') && l.includes('bytes=1000-1999')));
  } finally {
    await nginx.stop();
    rmSync(root, { recursive: true, force: true });
  }
  await assert.rejects(get(nginx.url('/blob.bin')), /ECONNREFUSED/);
});
