// The CLI against a port nothing listens on: each failed try is said as it happens (a JSON connect-retry
// event, or a "Connecting to <host>: connection refused (attempt N, next try in S s)" line on a terminal),
// then the job fails with E_CONNECT; never a silent wait.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { closedPortUrl } from '../../harness/fault-server';
import { runCli, scratch, suiteDir } from './harness';

const work = suiteDir('connect-retry-cli');
after(() => rmSync(work, { recursive: true, force: true }));

function args(url: string, label: string): string[] {
  const dir = scratch(work, label);
  return ['get', url, '--dest', join(dir, 'out'), '--state-dir', join(dir, 'state'), '--retries', '3', '--retry-base', '100ms'];
}

test('CLI --json: a refused connection at the start emits connect-retry events (attempt, host, reason, next try), then E_CONNECT', async () => {
  const url = await closedPortUrl('/x.tar.gz');
  const host = new URL(url).host;
  const r = await runCli([...args(url, 'json'), '--json'], 30_000);
  const tries = r.lines.filter((l) => l.type === 'connect-retry');
  assert.deepEqual(
    tries.map((l) => [l.attempt, l.host, l.code, l.reason, l.phase]),
    [1, 2, 3].map((n) => [n, host, 'E_CONNECT', 'connection refused', 'start']),
  );
  for (const l of tries) assert.equal(l.nextAt, Number(l.at) + Number(l.delayMs));
  assert.equal(r.last?.type, 'error');
  assert.equal(r.last?.code, 'E_CONNECT');
  assert.notEqual(r.code, 0);
});

test('CLI: a refused connection at the start says "Connecting to <host>: connection refused (attempt N, next try in S s)" for each try', async () => {
  const url = await closedPortUrl('/x.tar.gz');
  const host = new URL(url).host;
  const r = await runCli(args(url, 'text'), 30_000);
  const said = r.stderr.split('\n').filter((l) => l.startsWith('Connecting to'));
  assert.equal(said.length, 3, r.stderr);
  said.forEach((line, i) => assert.match(line, new RegExp(`^Connecting to ${host.replace('.', '\\.')}: connection refused \\(attempt ${i + 1}, next try in \\d+ s\\)$`)));
  assert.match(r.stderr, /error E_CONNECT/);
});
