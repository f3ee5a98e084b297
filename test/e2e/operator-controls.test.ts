// Controls and figures of a job in the window (Debian's Chromium against the real `snapshot-manager serve`
// and the fault server): the live rate limit (the job slows down at once, the value is kept after a
// reload), the "Connecting to <host>: connection refused (attempt N, next try in S s)" line for an origin
// that refuses connections at the start (the job goes on once it answers), and "Stalls replaced" in a
// finished job's summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { FaultServer, closedPortUrl } from '../../harness/fault-server';
import { makeSnapshot, readTree } from './helpers/archive';
import { browserSkipped, openBrowser } from './helpers/browser';
import { ensureRendererBuilt, screenshotPath } from './helpers/paths';
import { addJob, pill, row, waitFor, withFailureShot } from './helpers/window';
import { startServe } from './helpers/serve-process';

const MiB = 1024 * 1024;

/** The job row's "Download" figure in bytes/s (0 for "—"). */
async function shownRate(page: Page, name: string): Promise<number> {
  const text =
    (await row(page, name)
      .locator('.figures div')
      .filter({ has: page.locator('dt', { hasText: /^Download$/ }) })
      .locator('dd')
      .textContent()) ?? '';
  const m = /^([\d.]+) (B|KiB|MiB|GiB)\/s$/.exec(text.trim());
  if (!m) return 0;
  return Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
}

const UNITS = { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB } as const;

/** The job row's "Downloaded" figure (bytes received and kept), in bytes. */
async function shownDownloaded(page: Page, name: string): Promise<number> {
  const text =
    (await row(page, name)
      .locator('.figures div')
      .filter({ has: page.locator('dt', { hasText: /^Downloaded$/ }) })
      .locator('dd')
      .textContent()) ?? '';
  const m = /^([\d.]+) (B|KiB|MiB|GiB) \//.exec(text.trim());
  if (!m) throw new Error(`no Downloaded figure in "${text}"`);
  return Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
}

/**
 * Bytes per second the job received over `ms`, as the window shows it. (The origin's count would include
 * what the sockets buffer: a new range fills them at once, whatever the limit.)
 */
async function receivedRate(page: Page, name: string, ms: number): Promise<number> {
  const before = await shownDownloaded(page, name);
  await new Promise((r) => setTimeout(r, ms));
  return ((await shownDownloaded(page, name)) - before) * (1000 / ms);
}

test('the rate limit changes while the job runs: it slows down at once, the value is kept after a reload, and clearing it lets the job finish', {
  skip: browserSkipped(),
  timeout: 120_000,
}, async (t) => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-rate-'));
  const archive = join(work, 'rate-snapshot.tar.gz');
  const expected = await makeSnapshot(
    archive,
    Array.from({ length: 8 }, () => 2 * MiB),
  );
  const origin = await FaultServer.start({ maxResponseMs: 90_000 });
  const path = '/snapshots/rate-snapshot.tar.gz';
  const url = await origin.serve(path, { file: archive });
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  const name = 'rate-snapshot.tar.gz';
  const dest = join(work, 'node');
  try {
    await withFailureShot(page, serve.stderr, async () => {
      await page.goto(serve.url);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      await addJob(page, { url, dest, rateMiB: '1' });
      await pill(page, name, 'Downloading').waitFor();
      const control = page.getByRole('form', { name: "Change this job's rate limit" });
      await control.getByRole('status').filter({ hasText: 'limited to 1 MiB/s' }).waitFor();
      await waitFor('some bytes received', async () => (await shownDownloaded(page, name)) >= 0.5 * MiB);
      const before = await receivedRate(page, name, 3_000);

      await control.getByLabel('Limit this job (MiB/s, empty: none)').fill('0.25');
      await control.getByRole('button', { name: 'Apply' }).click();
      await control.getByRole('status').filter({ hasText: 'limited to 0.25 MiB/s' }).waitFor();
      // Ranges in flight follow within a quarter of a second; what the sockets had buffered drains first.
      await new Promise((r) => setTimeout(r, 1_000));
      const after = await receivedRate(page, name, 4_000);
      assert.ok(before > 0.6 * MiB && before < 1.5 * MiB, `before: ${(before / MiB).toFixed(2)} MiB/s at a 1 MiB/s limit`);
      assert.ok(after < 0.4 * MiB, `after: ${(after / MiB).toFixed(2)} MiB/s at a 0.25 MiB/s limit`);
      // The window's own figure follows (it is smoothed over a few seconds).
      await waitFor(
        'the Download figure under 0.4 MiB/s',
        async () => {
          const r = await shownRate(page, name);
          return r > 0 && r < 0.4 * MiB;
        },
        15_000,
        250,
      );
      await page.screenshot({ path: screenshotPath('rate-limit.png') });

      // After a reload the job still runs at the new limit, and the field says so.
      await page.reload();
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      await pill(page, name, 'Downloading').waitFor();
      const reloaded = page.getByRole('form', { name: "Change this job's rate limit" });
      assert.equal(await reloaded.getByLabel('Limit this job (MiB/s, empty: none)').inputValue(), '0.25');
      await reloaded.getByRole('status').filter({ hasText: 'limited to 0.25 MiB/s' }).waitFor();
      const reloadedRate = await receivedRate(page, name, 3_000);
      t.diagnostic(
        `received: ${(before / MiB).toFixed(2)} MiB/s at 1 MiB/s, ${(after / MiB).toFixed(2)} MiB/s after 0.25 MiB/s was applied, ${(reloadedRate / MiB).toFixed(2)} MiB/s after the reload`,
      );
      assert.ok(reloadedRate < 0.4 * MiB, `still limited after the reload: ${(reloadedRate / MiB).toFixed(2)} MiB/s`);

      // Empty is no limit: the rest comes at full speed and the tree is the archive's.
      await reloaded.getByLabel('Limit this job (MiB/s, empty: none)').fill('');
      await reloaded.getByRole('button', { name: 'Apply' }).click();
      await pill(page, name, /^Done$/).waitFor({ timeout: 30_000 });
      assert.deepEqual([...(await readTree(dest)).entries()].sort(), [...expected.entries()].sort());
      assert.deepEqual(browser.pageErrors, []);
    });
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test('an origin that refuses connections at the start: "Connecting to <host>: connection refused (attempt N, next try in S s)", and the job goes on once it answers', {
  skip: browserSkipped(),
  timeout: 120_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-connecting-'));
  const archive = join(work, 'refused-snapshot.tar.gz');
  const expected = await makeSnapshot(archive, [1 * MiB, 1 * MiB]);
  const url = await closedPortUrl('/snapshots/refused-snapshot.tar.gz');
  const host = new URL(url).host;
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  const name = 'refused-snapshot.tar.gz';
  const dest = join(work, 'node');
  let origin: FaultServer | null = null;
  try {
    await withFailureShot(page, serve.stderr, async () => {
      await page.goto(serve.url);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      await addJob(page, { url, dest });
      const line = row(page, name).locator('.job-connecting');
      const pattern = new RegExp(`^Connecting to ${host.replace(/\./g, '\\.')}: connection refused \\(attempt (\\d+), (next try in \\d+ s|trying again now)\\)$`);
      await line.filter({ hasText: /attempt [2-9]/ }).waitFor({ timeout: 30_000 });
      const text = ((await line.textContent()) ?? '').trim();
      assert.match(text, pattern);
      assert.doesNotMatch((await row(page, name).textContent()) ?? '', /network offline/i, 'one host down is not the network');
      assert.equal(await pill(page, name, 'Failed').count(), 0);
      // Nothing to draw yet: the map says so, without a blank canvas (it was a black box); nothing flowed, so no "peak 1 B/s".
      const map = page.getByRole('region', { name: 'Chunk map' });
      await map.getByText('The chunk map appears once the source has been examined.').waitFor();
      assert.equal(await map.locator('canvas').isVisible(), false, 'no canvas before the probe');
      assert.equal(await map.getByText(/Hover a chunk/).isVisible(), false);
      assert.match((await page.getByRole('region', { name: 'Throughput' }).textContent()) ?? '', /peak — ·/);
      await page.screenshot({ path: screenshotPath('connecting.png') });

      // The origin comes up where the URL points: the next try gets through, the line goes, the job finishes.
      origin = await FaultServer.start({ port: Number(new URL(url).port) });
      await origin.serve('/snapshots/refused-snapshot.tar.gz', { file: archive });
      await pill(page, name, /^Done$/).waitFor({ timeout: 60_000 });
      assert.equal(await line.count(), 0, 'no "Connecting" line once it answered');
      assert.deepEqual([...(await readTree(dest)).entries()].sort(), [...expected.entries()].sort());
      assert.deepEqual(browser.pageErrors, []);
    });
  } finally {
    await browser.close();
    await serve.stop();
    await (origin as FaultServer | null)?.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test("a finished job's summary says how many stalled connections were replaced (one range went silent while the others flowed), also after a reload", {
  skip: browserSkipped(),
  timeout: 120_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-stalls-'));
  const archive = join(work, 'stalled-snapshot.tar.gz');
  const expected = await makeSnapshot(archive, [2 * MiB, 2 * MiB, 2 * MiB]);
  const origin = await FaultServer.start({ maxResponseMs: 90_000 });
  // The first request for chunk 1 goes silent for good after 64 KiB; every other range flows.
  let stalled = false;
  origin.setPlan((r) => {
    if (stalled || r.method !== 'GET' || r.range?.start !== MiB) return undefined;
    stalled = true;
    return { kind: 'stall', afterBytes: 64 * 1024, ms: 60_000 };
  });
  const url = await origin.serve('/snapshots/stalled-snapshot.tar.gz', { file: archive });
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  const name = 'stalled-snapshot.tar.gz';
  const dest = join(work, 'node');
  try {
    await withFailureShot(page, serve.stderr, async () => {
      await page.goto(serve.url);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      await addJob(page, { url, dest, rateMiB: '2' });
      await pill(page, name, /^Done$/).waitFor({ timeout: 60_000 });
      assert.ok(stalled, 'chunk 1 was asked for');
      assert.deepEqual([...(await readTree(dest)).entries()].sort(), [...expected.entries()].sort());
      // Shown as it finishes (it came only after a reload), and kept after one.
      const facts = async () => {
        const summary = page.getByRole('region', { name: 'Summary' });
        await summary.waitFor();
        const item = summary.locator('.summary-facts div').filter({ has: page.locator('dt', { hasText: /^Stalls replaced/ }) });
        return ((await item.locator('dd').textContent()) ?? '').trim();
      };
      assert.equal(await facts(), '1');
      await page.getByRole('region', { name: 'Summary' }).screenshot({ path: screenshotPath('summary-stalls.png') });
      await page.reload();
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      assert.equal(await facts(), '1', 'kept after a reload');
      assert.deepEqual(browser.pageErrors, []);
    });
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    rmSync(work, { recursive: true, force: true });
  }
});
