// The operator's window in a real browser (Debian's Chromium) against the real `snapshot-manager serve`
// and a fault-injecting origin on loopback: add a job through the form, watch chunks pass through the
// window, pause and resume, inspect a failing chunk and retry it now, and finish with the right tree.
// This is a browser test: the Electron window itself cannot run on this machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { FaultServer, faultTimes, rangedGet } from '../../harness/fault-server';
import { makeSnapshot, readTree } from './helpers/archive';
import { browserSkipped, openBrowser } from './helpers/browser';
import { ensureRendererBuilt, screenshotPath } from './helpers/paths';
import { startServe } from './helpers/serve-process';

const MiB = 1024 * 1024;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** What the chunk window shows right now: [chunk, state] for every occupied slot. */
async function windowSlots(page: Page): Promise<Array<[number, string]>> {
  return page.getByRole('region', { name: 'Chunk window' }).evaluate((region) =>
    [...region.querySelectorAll('button[aria-label^="Chunk "]')].map((b) => {
      const m = /^Chunk (\d+), (\w+)$/.exec(b.getAttribute('aria-label') ?? '');
      return [Number(m?.[1]), m?.[2] ?? ''] as [number, string];
    }),
  );
}

async function clickChunk(page: Page, index: number): Promise<void> {
  const canvas = page.getByRole('region', { name: 'Chunk map' }).locator('canvas');
  const { cols, pitch, cell } = await canvas.evaluate((c) => ({ cols: Number(c.dataset['cols']), pitch: Number(c.dataset['pitch']), cell: Number(c.dataset['cell']) }));
  await canvas.hover({ position: { x: (index % cols) * pitch + cell / 2, y: Math.floor(index / cols) * pitch + cell / 2 } });
  await page
    .getByRole('tooltip')
    .filter({ hasText: `Chunk ${index}` })
    .waitFor();
  await canvas.click({ position: { x: (index % cols) * pitch + cell / 2, y: Math.floor(index / cols) * pitch + cell / 2 } });
}

test('operator adds a snapshot, watches the window, pauses, resumes, retries a failing chunk and gets the tree', { skip: browserSkipped(), timeout: 150_000 }, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-'));
  const archive = join(work, 'node-snapshot.tar.gz');
  const expected = await makeSnapshot(archive, [3 * MiB, 3 * MiB]);
  const size = (await stat(archive)).size;
  // The last chunk fails: it is fetched last, after the pause and resume (a resume retries at once).
  const failing = Math.ceil(size / MiB) - 1;
  const failingOffset = failing * MiB;
  const origin = await FaultServer.start({ maxResponseMs: 90_000 });
  const path = '/snapshots/node-snapshot.tar.gz';
  const url = await origin.serve(path, { file: archive });
  const requestsForFailing = () => origin.requestsFor(path, 'GET').filter((r) => r.range !== null && r.range.start <= failingOffset && failingOffset <= r.range.end).length;
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  try {
    await page.goto(serve.url);
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();

    // Add the job through the form, with advanced settings that make its chunks easy to watch.
    await page.getByRole('button', { name: 'Add snapshot' }).click();
    await page.getByLabel('Snapshot URL').fill(url);
    const dest = join(work, 'extracted');
    await page.getByLabel('Destination').fill(dest);
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Chunk size (MiB)').fill('1');
    await page.getByLabel('Window (chunks on disk)').fill('3');
    await page.getByLabel('Parallel connections').fill('2');
    await page.getByLabel(/^Rate limit/).fill('1.5');
    await page.screenshot({ path: screenshotPath('add-snapshot.png') });
    await page.getByRole('button', { name: 'Start' }).click();

    // Chunks move through the window: several distinct chunks, seen fetching.
    const seen = new Map<number, Set<string>>();
    await waitFor('three chunks through the window', async () => {
      for (const [chunk, state] of await windowSlots(page)) {
        if (!seen.has(chunk)) seen.set(chunk, new Set());
        seen.get(chunk)!.add(state);
      }
      return seen.size >= 3 && [...seen.values()].some((s) => s.has('fetching'));
    });
    await page.screenshot({ path: screenshotPath('downloading.png') });

    // Pause: the state says so and the downloaded bytes stop growing; resume: they grow again.
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('Paused — by you').waitFor();
    const downloaded = page.getByRole('progressbar', { name: 'Downloaded' });
    await new Promise((r) => setTimeout(r, 300));
    const atPause = await downloaded.getAttribute('aria-valuenow');
    const requestsAtPause = origin.requests.length;
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(await downloaded.getAttribute('aria-valuenow'), atPause, 'nothing is downloaded while paused');
    assert.equal(origin.requests.length, requestsAtPause, 'no request is sent while paused');
    // Its first request is refused with a long Retry-After, so only "Retry now" finishes soon.
    assert.equal(requestsForFailing(), 0, 'the last chunk is not fetched before the pause');
    origin.setPlan(faultTimes(rangedGet(failingOffset), { kind: 'status', status: 503, retryAfter: 60, body: 'busy' }));
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText('Downloading', { exact: true }).waitFor();

    // The failing chunk: retrying on the map, then inspected.
    const canvas = page.getByRole('region', { name: 'Chunk map' }).locator('canvas');
    await waitFor('a retrying chunk on the map', async () => /\bretrying\b/.test((await canvas.getAttribute('aria-label')) ?? ''), 30_000);
    await clickChunk(page, failing);
    const inspector = page.getByRole('region', { name: 'Chunk inspector' });
    await inspector.getByRole('heading', { name: `Chunk ${failing}` }).waitFor();
    await inspector.getByRole('cell', { name: '503', exact: true }).waitFor();
    const chain = inspector.getByRole('list', { name: 'Cause chain' }).first();
    await chain.waitFor();
    assert.match((await chain.textContent()) ?? '', /E_HTTP_STATUS/);
    const range = `bytes ${failingOffset.toLocaleString('en-US')}–${(size - 1).toLocaleString('en-US')}`;
    assert.ok(((await inspector.textContent()) ?? '').includes(range), `the inspector shows the chunk’s byte range ${range}`);
    assert.match((await inspector.textContent()) ?? '', /Next retry\d\d:\d\d/, 'the next retry time is shown');
    await page.screenshot({ path: screenshotPath('chunk-inspector.png') });

    const before = requestsForFailing();
    const clickedAt = Date.now();
    await inspector.getByRole('button', { name: 'Retry now' }).click();
    await waitFor('the chunk fetched again at once', async () => requestsForFailing() > before, 10_000);
    assert.ok(Date.now() - clickedAt < 10_000, 'Retry now does not wait for the 60 s Retry-After');

    // Done, with the tree the archive holds.
    await page
      .locator('.job .pill')
      .filter({ hasText: /^Done$/ })
      .waitFor({ timeout: 60_000 });
    await inspector.getByRole('cell', { name: 'ok' }).first().waitFor();
    await page.screenshot({ path: screenshotPath('done.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(200);
    await page.screenshot({ path: screenshotPath('done-dark.png') });
    const tree = await readTree(dest);
    assert.deepEqual([...tree.entries()].sort(), [...expected.entries()].sort());
    assert.deepEqual(browser.pageErrors, []);
  } catch (err) {
    await page.screenshot({ path: screenshotPath('failure.png') }).catch(() => undefined);
    throw new Error(`${(err as Error).message}\n--- serve stderr ---\n${serve.stderr()}`, { cause: err });
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    rmSync(work, { recursive: true, force: true });
  }
});
