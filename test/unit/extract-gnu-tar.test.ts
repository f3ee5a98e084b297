// The extractor's output matches GNU tar's own extraction of the same .tar.gz, byte for byte: content,
// modes, symlink targets, hardlinks, empty directories, long names, mtimes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, link, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Extractor } from '../../electron/engine/extract/extractor';

interface Node {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  sha256: string | null;
  target: string | null;
  mtimeMs: number;
  nlink: number;
}

async function snapshot(root: string): Promise<Map<string, Node>> {
  const out = new Map<string, Node>();
  const walk = async (dir: string, rel: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const full = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(full);
      const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';
      out.set(r, {
        type,
        mode: st.mode & 0o7777,
        size: type === 'file' ? st.size : 0,
        sha256:
          type === 'file'
            ? createHash('sha256')
                .update(await readFile(full))
                .digest('hex')
            : null,
        target: type === 'symlink' ? await readlink(full) : null,
        mtimeMs: st.mtimeMs,
        nlink: type === 'file' ? st.nlink : 0,
      });
      if (type === 'dir') await walk(full, r);
    }
  };
  await walk(root, '');
  return out;
}

async function makeSourceTree(src: string): Promise<void> {
  const long = 'a-rather-long-directory-name-that-keeps-going-and-going'.repeat(2);
  await mkdir(join(src, 'bin'), { recursive: true });
  await mkdir(join(src, 'empty-dir'));
  await mkdir(join(src, 'nested/deeper/deepest'), { recursive: true });
  await mkdir(join(src, long, 'second-level-also-quite-long-to-pass-the-hundred-byte-ustar-name-field'), { recursive: true });
  await writeFile(join(src, 'bin/run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(src, 'bin/run.sh'), 0o755);
  await writeFile(join(src, 'readonly.txt'), 'do not touch\n');
  await chmod(join(src, 'readonly.txt'), 0o444);
  await writeFile(join(src, 'empty-file'), '');
  await writeFile(join(src, 'nested/deeper/deepest/data.bin'), Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 131) % 256)));
  await writeFile(join(src, long, 'second-level-also-quite-long-to-pass-the-hundred-byte-ustar-name-field', 'file-with-a-long-name.txt'), 'long\n');
  await writeFile(join(src, 'caf\u00e9 \u2603.txt'), 'unicode name\n');
  await symlink('bin/run.sh', join(src, 'link-to-script'));
  await symlink('../readonly.txt', join(src, 'nested/up-link'));
  await symlink('nested/deeper', join(src, 'dir-link'));
  await symlink('does-not-exist', join(src, 'dangling'));
  await link(join(src, 'nested/deeper/deepest/data.bin'), join(src, 'hardlinked.bin'));
  await chmod(join(src, 'nested'), 0o750);
  const t = new Date('2021-03-04T05:06:07Z');
  await utimes(join(src, 'readonly.txt'), t, t);
  await utimes(join(src, 'empty-dir'), t, t);
}

for (const format of ['gnu', 'posix'] as const) {
  test(`extraction of a GNU-tar-made .tar.gz (--format=${format}) matches tar -xzf`, async () => {
    const base = await mkdtemp(join(tmpdir(), 'sm-gnutar-'));
    try {
      const src = join(base, 'src');
      await mkdir(src);
      await makeSourceTree(src);
      const archive = join(base, 'a.tar.gz');
      execFileSync('tar', ['-czf', archive, `--format=${format}`, '-C', src, '.']);
      const byTar = join(base, 'by-tar');
      await mkdir(byTar);
      execFileSync('tar', ['-xzf', archive, '--no-same-owner', '-C', byTar]);
      const byUs = join(base, 'by-us');
      const ex = new Extractor({ dest: byUs, format: 'auto' });
      await pipeline(createReadStream(archive, { highWaterMark: 4096 }), ex);
      const result = await ex.done();
      assert.deepEqual(result.skipped, []);
      assert.equal(result.format, 'gzip');

      const expected = await snapshot(byTar);
      const actual = await snapshot(byUs);
      assert.deepEqual([...actual.keys()], [...expected.keys()]);
      assert.ok(expected.size >= 15, 'the sample tree is non-trivial');
      for (const [rel, want] of expected) {
        const got = actual.get(rel)!;
        const { mtimeMs: wantMtime, ...wantRest } = want;
        const { mtimeMs: gotMtime, ...gotRest } = got;
        assert.deepEqual(gotRest, wantRest, rel);
        if (want.type !== 'symlink') assert.ok(Math.abs(gotMtime - wantMtime) < 1, `${rel}: mtime ${gotMtime} vs ${wantMtime}`);
      }
      assert.equal((await lstat(join(byUs, 'hardlinked.bin'))).ino, (await lstat(join(byUs, 'nested/deeper/deepest/data.bin'))).ino);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
}
