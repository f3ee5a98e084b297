// The window says what the archive is and where a stopped job would continue: a .tar.lz4 and a .tar.zst
// (made by the real lz4 and zstd) are "resumable at any block"; the same .tar.zst in a window of one slot
// "restarts from the beginning". Real Chromium against the real `snapshot-manager serve`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { FaultServer } from '../../harness/fault-server';
import { readTree } from './helpers/archive';
import { browserSkipped, openBrowser } from './helpers/browser';
import { ensureRendererBuilt, screenshotPath } from './helpers/paths';
import { startServe } from './helpers/serve-process';

const MiB = 1024 * 1024;

async function addJob(page: Page, url: string, dest: string, advanced: { window?: string } = {}): Promise<void> {
  await page.getByRole('button', { name: 'Add snapshot' }).click();
  await page.getByLabel('Snapshot URL').fill(url);
  await page.getByLabel('Destination').fill(dest);
  await page.getByText('Advanced settings').click();
  await page.getByLabel('Chunk size (MiB)').fill('1');
  if (advanced.window) {
    await page.getByLabel('Window (chunks on disk)').fill(advanced.window);
    await page.getByLabel('Parallel connections').fill('1');
  }
  await page.getByRole('button', { name: 'Start' }).click();
}

/** The job view's format line once the engine has found the format (the added job is the one selected). */
async function decodingLine(page: Page, name: string): Promise<string> {
  await page.getByRole('heading', { name }).waitFor();
  const line = page.getByTestId('job-decoding');
  await line.waitFor({ timeout: 20_000 });
  return (await line.textContent()) ?? '';
}

test('the job view shows the detected format and where it resumes: .tar.lz4 and .tar.zst at any block, a one-slot window from the beginning', {
  skip: browserSkipped(),
  timeout: 120_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-format-'));
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'node', 'data'), { recursive: true });
  writeFileSync(join(tree, 'node', 'config.toml'), '[p2p]\nseeds = ""\n');
  writeFileSync(join(tree, 'node', 'data', 'blocks.ldb'), randomBytes(3 * MiB));
  const tar = execFileSync('tar', ['-C', tree, '-cf', '-', 'node'], { maxBuffer: 1 << 30 });
  const lz4 = execFileSync('lz4', ['-q', '-c'], { input: tar, maxBuffer: 1 << 30 });
  const zst = execFileSync('zstd', ['-q', '-3', '-c'], { input: tar, maxBuffer: 1 << 30 });
  const origin = await FaultServer.start();
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  try {
    const lz4Url = await origin.serve('/snap.tar.lz4', lz4);
    const zstUrl = await origin.serve('/snap.tar.zst', zst);
    const oneSlotUrl = await origin.serve('/one-slot.tar.zst', zst);
    await page.goto(serve.url);
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();

    await addJob(page, lz4Url, join(work, 'out-lz4'));
    assert.equal(await decodingLine(page, 'snap.tar.lz4'), 'tar.lz4, resumable at any block');
    await addJob(page, zstUrl, join(work, 'out-zst'));
    assert.equal(await decodingLine(page, 'snap.tar.zst'), 'tar.zst, resumable at any block');
    await page.screenshot({ path: screenshotPath('format-zstd.png') });
    await addJob(page, oneSlotUrl, join(work, 'out-one'), { window: '1' });
    assert.match(await decodingLine(page, 'one-slot.tar.zst'), /^tar\.zst, restarts from the beginning \(a window of one slot/);

    // Each job still ends with the tree the archive holds.
    await page
      .locator('.job .pill')
      .filter({ hasText: /^Done$/ })
      .nth(2)
      .waitFor({ timeout: 60_000 });
    const expected = await readTree(tree);
    for (const out of ['out-lz4', 'out-zst', 'out-one']) assert.deepEqual([...(await readTree(join(work, out))).entries()].sort(), [...expected.entries()].sort(), out);
    assert.deepEqual(browser.pageErrors, []);
  } catch (err) {
    await page.screenshot({ path: screenshotPath('failure-format.png') }).catch(() => undefined);
    throw new Error(`${(err as Error).message}\n--- serve stderr ---\n${serve.stderr()}`, { cause: err });
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    rmSync(work, { recursive: true, force: true });
  }
});
