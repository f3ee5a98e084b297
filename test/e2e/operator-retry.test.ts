// "Retry now" on a job that failed, not only on a running one (Debian's Chromium against the real
// `snapshot-manager serve`): the failed chunk's inspector offers it, a done chunk's does not, and pressing it
// starts a new run from the journal that fetches the chunk again and finishes the job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultServer, chunkGet } from '../../harness/fault-server';
import { makeSnapshot, readTree } from './helpers/archive';
import { browserSkipped, openBrowser } from './helpers/browser';
import { ensureRendererBuilt, screenshotPath } from './helpers/paths';
import { addJob, pill, withFailureShot } from './helpers/window';
import { startServe } from './helpers/serve-process';

const MiB = 1024 * 1024;

test('Retry now on a failed job: offered on the failed chunk, not on a done one; it runs the job again to the end, re-fetching only what was not committed', {
  skip: browserSkipped(),
  timeout: 120_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-retry-'));
  const archive = join(work, 'node-snapshot.tar.gz');
  const expected = await makeSnapshot(archive, [1.5 * MiB, 1.5 * MiB, 1.5 * MiB]);
  const origin = await FaultServer.start();
  const path = '/snapshots/node-snapshot.tar.gz';
  const url = await origin.serve(path, { file: archive });
  // Chunk 2 is gone (404, not retried by the engine) until the operator has it back. It answers 503 (retried)
  // until a durable checkpoint lies past chunk 0, so that what the failed job kept does not depend on timing: a
  // job that fails loses what it consumed since its last checkpoint, as a crash does.
  const dest = join(work, 'extracted');
  const checkpointFile = join(work, '.extracted.snapshot-manager', 'checkpoint.json');
  const checkpointPast = (offset: number): boolean => {
    try {
      return existsSync(checkpointFile) && (JSON.parse(readFileSync(checkpointFile, 'utf8')) as { extract: { compressedOffset: number } }).extract.compressedOffset >= offset;
    } catch {
      return false; // being replaced
    }
  };
  let gone = true;
  origin.setPlan((r) =>
    gone && r.path === path && chunkGet(2 * MiB)(r)
      ? checkpointPast(MiB)
        ? { kind: 'status', status: 404, body: 'gone' }
        : { kind: 'status', status: 503, retryAfter: 0 }
      : undefined,
  );
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  const name = 'node-snapshot.tar.gz';
  try {
    await withFailureShot(page, serve.stderr, async () => {
      await page.goto(serve.url);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      await addJob(page, { url, dest });
      await pill(page, name, 'Failed').waitFor({ timeout: 30_000 });

      // A done chunk of the failed job: nothing to retry.
      const canvas = page.getByRole('region', { name: 'Chunk map' }).locator('canvas');
      await canvas.focus();
      await page.keyboard.press('Home');
      await page.keyboard.press('Enter');
      const inspector = page.getByRole('region', { name: 'Chunk inspector' });
      await inspector.getByRole('heading', { name: 'Chunk 0' }).waitFor();
      assert.equal(await inspector.locator('.pill').textContent(), 'done');
      assert.equal(await inspector.getByRole('button', { name: 'Retry now' }).isDisabled(), true, 'a done chunk is not retried');

      // The failed chunk: Retry now is offered and says what it does.
      await page.keyboard.press('Escape');
      await canvas.focus();
      await page.keyboard.press('Home');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Enter');
      await inspector.getByRole('heading', { name: 'Chunk 2' }).waitFor();
      const retry = inspector.getByRole('button', { name: 'Retry now' });
      assert.equal(await retry.isDisabled(), false);
      assert.match((await retry.getAttribute('title')) ?? '', /Resume the job: this chunk is fetched again/);
      await page.screenshot({ path: screenshotPath('retry-failed-chunk.png') });

      gone = false;
      const servedBefore = origin.bodyBytesServed(path);
      const requestsBefore = origin.requests.length;
      await retry.click();
      await pill(page, name, /^Done$/).waitFor({ timeout: 60_000 });
      assert.deepEqual([...(await readTree(dest)).entries()].sort(), [...expected.entries()].sort());
      // The new run continued from the journal: the done chunk 0 was not fetched again.
      const size = statSync(archive).size;
      const refetched = origin.bodyBytesServed(path) - servedBefore;
      console.log(`Retry now on the failed job: ${refetched} bytes fetched by the new run (the file is ${size})`);
      const later = origin.requests.slice(requestsBefore).filter((r) => r.path === path && r.method === 'GET' && r.bytesSent > 0);
      assert.ok(later.length > 0);
      assert.ok(
        later.every((r) => (r.bodyStart ?? 0) >= MiB),
        `ranges from ${later.map((r) => r.bodyStart).join(', ')}`,
      );
      assert.ok(refetched <= size - MiB, `${refetched} bytes fetched again`);
      assert.deepEqual(browser.pageErrors, []);
    });
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    rmSync(work, { recursive: true, force: true });
  }
});
