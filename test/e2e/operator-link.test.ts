// A signed link that expires mid-job, seen from the window (Debian's Chromium against the real
// `snapshot-manager serve` and a fault-injecting origin): at 40% of the file the origin answers 403 with S3's
// "Request has expired" for the old signature; the job pauses as link-expired, the operator pastes a fresh link
// into "Replace link", and the job continues with what it has. The bytes fetched twice are counted at the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultServer, type FaultPlan } from '../../harness/fault-server';
import { makeSnapshot, readTree } from './helpers/archive';
import { browserSkipped, openBrowser } from './helpers/browser';
import { ensureRendererBuilt, screenshotPath } from './helpers/paths';
import { addJob, pill, row, withFailureShot } from './helpers/window';
import { startServe } from './helpers/serve-process';

const MiB = 1024 * 1024;
/** addJob's figures: 1 MiB chunks, 3 of them on disk at most. */
const WINDOW_BYTES = 3 * MiB;
const OLD = '?X-Amz-Expires=300&X-Amz-Signature=OLDSIG0000';
const NEW = '?X-Amz-Expires=300&X-Amz-Signature=NEWSIG1111';
const S3_EXPIRED = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>300</X-Amz-Expires></Error>';

/** The old signature stops working once the origin has sent `limit` body bytes for it. */
function expiresAfter(origin: FaultServer, path: string, limit: number): FaultPlan {
  let expired = false;
  return (r) => {
    if (r.path !== path || r.query !== OLD) return undefined;
    if (!expired) expired = origin.requests.filter((q) => q.path === path && q.query === OLD).reduce((n, q) => n + q.bytesSent, 0) >= limit;
    return expired ? { kind: 'status', status: 403, body: S3_EXPIRED, contentType: 'application/xml' } : undefined;
  };
}

test('a link that expires at 40% pauses the job as link-expired; a fresh link pasted into Replace link continues it, re-fetching at most the window', {
  skip: browserSkipped(),
  timeout: 150_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-link-'));
  const archive = join(work, 'node-snapshot.tar.gz');
  const expected = await makeSnapshot(archive, [2 * MiB, 2 * MiB, 2 * MiB, 2 * MiB]);
  const origin = await FaultServer.start({ maxResponseMs: 90_000 });
  const path = '/snapshots/node-snapshot.tar.gz';
  const base = await origin.serve(path, { file: archive });
  const size = statSync(archive).size;
  origin.setPlan(expiresAfter(origin, path, 0.4 * size));
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  const name = 'node-snapshot.tar.gz';
  try {
    await withFailureShot(page, serve.stderr, async () => {
      await page.goto(serve.url);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      const dest = join(work, 'extracted');
      await addJob(page, { url: base + OLD, dest, rateMiB: '2' });
      // The top bar adds up the jobs that download (here one).
      const total = page.getByRole('status', { name: 'Total throughput' });
      await total.filter({ hasText: /^1 job downloading · [\d.]+ (B|KiB|MiB)\/s$/ }).waitFor();

      // Paused, not failed: the window says why and offers the control that resolves it.
      await pill(page, name, 'Paused — the link expired: replace it to continue').waitFor({ timeout: 40_000 });
      assert.equal(await pill(page, name, 'Failed').count(), 0);
      await total.waitFor({ state: 'detached' });
      const control = page.getByRole('form', { name: 'Replace link' });
      await control.getByLabel('The link expired: paste a fresh link to the same file').waitFor();
      await page.screenshot({ path: screenshotPath('link-expired.png') });
      const shown = (await page.textContent('body')) ?? '';
      assert.ok(!shown.includes('OLDSIG'), 'the old signature is not shown');
      // Nor on hover (the titles once held the link whole).
      assert.equal(await page.getByRole('heading', { level: 2, name }).getAttribute('title'), `${base}?…`);
      assert.equal(await row(page, name).getByRole('button', { name, exact: true }).getAttribute('title'), `${base}?…`);

      // A link the engine cannot fetch is refused next to the field, and the job stays paused.
      await control.getByLabel('The link expired: paste a fresh link to the same file').fill('ftp://example.invalid/node-snapshot.tar.gz');
      await control.getByRole('button', { name: 'Replace link' }).click();
      await control.getByText('Give the new link as an http:// or https:// URL.').waitFor();
      assert.equal(await pill(page, name, 'Paused — the link expired: replace it to continue').count(), 1);

      // The fresh link: the job continues with what it has and finishes with the archive's tree.
      const servedBefore = origin.bodyBytesServed(path);
      await control.getByLabel('The link expired: paste a fresh link to the same file').fill(base + NEW);
      await control.getByRole('button', { name: 'Replace link' }).click();
      await pill(page, name, /^Downloading$|^Done$/).waitFor({ timeout: 20_000 });
      await page.screenshot({ path: screenshotPath('link-replaced.png') });
      await pill(page, name, /^Done$/).waitFor({ timeout: 60_000 });
      assert.deepEqual([...(await readTree(dest)).entries()].sort(), [...expected.entries()].sort());

      const refetched = origin.bodyBytesServed(path) - size;
      console.log(`window Replace link: ${refetched} bytes fetched twice (bound ${WINDOW_BYTES}); ${origin.bodyBytesServed(path) - servedBefore} after the new link`);
      assert.ok(refetched <= WINDOW_BYTES, `${refetched} bytes fetched twice`);
      assert.ok(
        origin.requestsFor(path).some((r) => r.query === NEW && r.bytesSent > 0),
        'the new link was used',
      );
      const text = (await row(page, name).textContent()) ?? '';
      assert.ok(!text.includes('NEWSIG') && !text.includes('OLDSIG'), 'no signature in the job row');
      assert.ok(!serve.stderr().includes('NEWSIG') && !serve.stderr().includes('OLDSIG'), 'no signature in serve’s output');
      assert.deepEqual(browser.pageErrors, []);
    });
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test('request headers typed in the add form: masked while typed, a bad line refused next to the field, sent to the origin, shown back by name only', {
  skip: browserSkipped(),
  timeout: 120_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-headers-'));
  const archive = join(work, 'private-snapshot.tar.gz');
  const expected = await makeSnapshot(archive, [1 * MiB, 1 * MiB]);
  const origin = await FaultServer.start();
  const path = '/private/private-snapshot.tar.gz';
  const url = await origin.serve(path, { file: archive });
  const token = 'Bearer e2e-tok-51c0ffee';
  origin.setPlan((r) => (r.path === path && r.headers['authorization'] !== token ? { kind: 'status', status: 401, body: 'no token' } : undefined));
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  const name = 'private-snapshot.tar.gz';
  try {
    await withFailureShot(page, serve.stderr, async () => {
      await page.goto(serve.url);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      await page.getByRole('button', { name: 'Add snapshot' }).click();
      const form = page.getByRole('region', { name: 'Add a snapshot' });
      await form.getByLabel('Snapshot URL').fill(url);
      await form.getByLabel('Destination').fill(join(work, 'extracted'));
      await form.getByText('Access (headers, link refresh)').click();
      const headers = form.getByLabel('Request headers (one “Name: value” a line)');
      // A line without a colon: the host refuses it on this field, naming the header but not the value.
      await headers.fill(`Authorization ${token}`);
      await form.getByRole('button', { name: 'Start' }).click();
      await form
        .locator('.field-error')
        .filter({ hasText: /has no ':'/ })
        .waitFor();
      assert.ok(!((await form.locator('.field-error').textContent()) ?? '').includes('e2e-tok'), 'no value in the message');
      assert.equal(await page.locator('li.job').count(), 0, 'no job was created');

      await headers.fill(`Authorization: ${token}`);
      await form.getByText('Sent to this link’s origin only: authorization: ••••').waitFor();
      assert.equal(await form.locator('.field-error').count(), 0, 'the refusal goes once the lines are edited');
      assert.equal(
        await headers.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): Record<string, string> }).getComputedStyle(el)['webkitTextSecurity']),
        'disc',
        'typed masked',
      );
      await page.screenshot({ path: screenshotPath('add-job-headers.png') });
      await form.getByRole('button', { name: 'Start' }).click();
      await form.waitFor({ state: 'detached' });

      await pill(page, name, /^Done$/).waitFor({ timeout: 60_000 });
      assert.deepEqual([...(await readTree(join(work, 'extracted'))).entries()].sort(), [...expected.entries()].sort());
      await page.getByTestId('job-access').filter({ hasText: 'Request headers: authorization: ••••' }).waitFor();
      assert.ok(
        origin.requestsFor(path).every((r) => r.headers['authorization'] === token && r.status < 400),
        'every request carried the token',
      );
      assert.ok(!((await page.textContent('body')) ?? '').includes('e2e-tok'), 'the window shows no value');
      assert.ok(!serve.stderr().includes('e2e-tok'), 'serve prints no value');
      assert.deepEqual(browser.pageErrors, []);
    });
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    rmSync(work, { recursive: true, force: true });
  }
});
