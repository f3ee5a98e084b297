// A corpus of tar archives made by the real writers on this machine (GNU tar in each format and sparse
// variant, bsdtar, Python's tarfile) from one source tree that has what trips readers up: long names (one
// whose 100th byte is `/`), long link targets, hardlinks, non-UTF-8 names (KOI8-R, CP866, EUC-JP, Latin-1,
// two that a U+FFFD decoder would merge), sparse files with few and many regions, a FIFO and an absolute
// symlink (refused by design). Plus hand-built archives for what no tool writes (see handBuilt).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, symlinkSync, linkSync, writeSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { paxRecord, tarArchive, tarHeader, tarMember, type RawEntry } from '../hostile/tar-builder';

export interface CorpusArchive {
  name: string;
  writer: 'gnu tar' | 'bsdtar' | 'python tarfile' | 'hand-built';
  format: string;
  path: string;
  /** Our extraction must fail with this code (GNU tar's outcome differs only in the exit status). */
  expectError?: string;
  /** Our extraction must report these warning codes. */
  expectWarnings?: string[];
}

const b = (...bytes: number[]) => Buffer.from(bytes);
/** Names no UTF-8 decoder keeps: the file system holds these exact bytes. */
export const RAW_NAMES = {
  koi8r: b(0xd0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4), // "привет" in KOI8-R
  cp866: b(0xaf, 0xe0, 0xa8, 0xa2, 0xa5, 0xe2), // "привет" in CP866
  eucjp: b(0xa5, 0xc6, 0xa5, 0xb9, 0xa5, 0xc8), // "テスト" in EUC-JP
  latin1: b(0x63, 0x61, 0x66, 0xe9), // "café" in Latin-1
  merge1: b(0xe0, 0xe1), // both become "\ufffd\ufffd" through a lossy decoder
  merge2: b(0xe2, 0xe3),
};

function rawPath(dir: string, name: Buffer): Buffer {
  return Buffer.concat([Buffer.from(dir + '/'), name]);
}

/** A file with data at `regions` ([offset, length]) and holes elsewhere, `size` long. */
function sparseFile(path: string, size: number, regions: Array<[number, number]>): void {
  const fd = openSync(path, 'w');
  try {
    for (const [offset, length] of regions) {
      const data = Buffer.alloc(length, ((offset / 4096) % 251) + 1);
      data.write(`region at ${offset}`);
      writeSync(fd, data, 0, length, offset);
    }
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

export function makeSourceTree(src: string): void {
  mkdirSync(join(src, 'dir/sub'), { recursive: true });
  mkdirSync(join(src, 'emptydir'));
  chmodSync(join(src, 'emptydir'), 0o750);
  writeFileSync(join(src, 'small.txt'), 'small file\n');
  writeFileSync(join(src, 'empty'), '');
  writeFileSync(join(src, 'block512.bin'), Buffer.alloc(512, 0x41));
  writeFileSync(join(src, 'big.bin'), Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 131) % 256)));
  writeFileSync(join(src, 'exec.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(src, 'exec.sh'), 0o755);
  writeFileSync(join(src, 'private'), 'secret\n');
  chmodSync(join(src, 'private'), 0o600);
  writeFileSync(join(src, 'dir/sub/deep.txt'), 'deep\n');
  // The GNU long name's first 100 bytes end in `/`: the header's own name field looks like a directory.
  // Tools that archive `.` store `./d...d/`, Python stores `e...e/`: the 100th byte is `/` in both.
  for (const dir of ['d'.repeat(97), 'e'.repeat(99)]) {
    mkdirSync(join(src, dir));
    writeFileSync(join(src, dir, 'file-after-the-slash.txt'), 'the 100th byte of my name is a slash\n');
  }
  const longDir = 'a-rather-long-directory-name-'.repeat(5);
  mkdirSync(join(src, longDir));
  writeFileSync(join(src, longDir, 'x'.repeat(120)), 'long\n');
  symlinkSync(`${longDir}/${'x'.repeat(120)}`, join(src, 'long-target-link'));
  symlinkSync('small.txt', join(src, 'link-to-small'));
  symlinkSync('../../small.txt', join(src, 'dir/sub/up-link'));
  linkSync(join(src, 'big.bin'), join(src, 'hard-to-big'));
  writeFileSync(join(src, 'caf\u00e9 \u2603.txt'), 'utf-8 name\n');
  writeFileSync(rawPath(src, RAW_NAMES.koi8r), 'koi8-r\n');
  writeFileSync(rawPath(src, RAW_NAMES.cp866), 'cp866\n');
  writeFileSync(rawPath(src, RAW_NAMES.eucjp), 'euc-jp\n');
  mkdirSync(rawPath(src, RAW_NAMES.latin1));
  writeFileSync(Buffer.concat([rawPath(src, RAW_NAMES.latin1), Buffer.from('/inside')]), 'latin-1 directory\n');
  // Link targets are bytes too.
  symlinkSync(RAW_NAMES.koi8r, rawPath(src, Buffer.concat([Buffer.from('link-to-'), RAW_NAMES.cp866])));
  linkSync(rawPath(src, RAW_NAMES.eucjp), rawPath(src, Buffer.concat([Buffer.from('hard-to-'), RAW_NAMES.eucjp])));
  writeFileSync(rawPath(src, RAW_NAMES.merge1), 'first of two names a lossy decoder merges\n');
  writeFileSync(rawPath(src, RAW_NAMES.merge2), 'second of two names a lossy decoder merges\n');
  sparseFile(join(src, 'sparse-one'), 1 << 20, [[512 * 1024, 4096]]);
  sparseFile(
    join(src, 'sparse-many'),
    1 << 20,
    Array.from({ length: 10 }, (_, i) => [i * 65536, 4096] as [number, number]),
  );
  sparseFile(join(src, 'sparse-lead'), 768 * 1024, [[0, 8192]]);
  sparseFile(join(src, 'sparse-empty'), 256 * 1024, []);
  // Refused by design (see ALLOWED_DIFFERENCES).
  execFileSync('mkfifo', [join(src, 'fifo')]);
  symlinkSync('/etc/hostname', join(src, 'abs-link'));
}

/** Names GNU tar extracts and we refuse, with the documented reason. */
export const ALLOWED_DIFFERENCES: Record<string, string> = {
  fifo: 'FIFOs (and devices) are not extracted',
  'abs-link': 'symlinks pointing out of the destination are refused',
};

function tool(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  // GNU tar exits 2 after members it cannot store in the format (v7/ustar name limits): the rest is written.
  if (r.status !== 0 && !(cmd === 'tar' && r.status === 2)) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

const PYTHON_WRITER = `
import os, sys, tarfile
out, fmt, src = sys.argv[1], sys.argv[2], sys.argv[3]
form = {'ustar': tarfile.USTAR_FORMAT, 'gnu': tarfile.GNU_FORMAT, 'pax': tarfile.PAX_FORMAT}[fmt]
os.chdir(src)
with tarfile.open(out, 'w', format=form) as t:
    for name in sorted(os.listdir('.')):
        try:
            t.add(name)
        except ValueError:
            pass  # a name or link the format cannot hold (USTAR limits)
`;

/** Builds every tool-made archive from `src` into `dir`. */
export function toolArchives(src: string, dir: string): CorpusArchive[] {
  const members = ['.'];
  const out: CorpusArchive[] = [];
  const add = (writer: CorpusArchive['writer'], format: string, make: (path: string) => void) => {
    const name = `${writer.replace(/ /g, '-')}-${format}`;
    const path = join(dir, `${name}.tar`);
    make(path);
    out.push({ name, writer, format, path });
  };
  for (const f of ['gnu', 'oldgnu', 'posix', 'ustar', 'v7']) add('gnu tar', f, (p) => tool('tar', [`--format=${f}`, '-cf', p, ...members], src));
  for (const f of ['gnu', 'oldgnu']) add('gnu tar', `${f} --sparse`, (p) => tool('tar', [`--format=${f}`, '--sparse', '-cf', p, ...members], src));
  for (const v of ['0.0', '0.1', '1.0'])
    add('gnu tar', `posix --sparse-version=${v}`, (p) => tool('tar', ['--posix', '--sparse', `--sparse-version=${v}`, '-cf', p, ...members], src));
  for (const f of ['pax', 'ustar', 'gnutar']) add('bsdtar', f, (p) => tool('bsdtar', ['--format', f, '-cf', p, ...members], src));
  add('bsdtar', 'pax --read-sparse', (p) => tool('bsdtar', ['--format', 'pax', '--read-sparse', '-cf', p, ...members], src));
  for (const f of ['ustar', 'gnu', 'pax']) add('python tarfile', f, (p) => tool('python3', ['-c', PYTHON_WRITER, p, f, src], src));
  return out;
}

/** A header with `bytes` written at `at`, its checksum recomputed. */
function patched(e: RawEntry, edits: Array<[number, Buffer]>): Buffer {
  const block = tarHeader(e);
  for (const [at, bytes] of edits) bytes.copy(block, at);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of block) sum += x;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}

const pad = (data: Buffer) => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
const member = (header: Buffer, data: Buffer | string = Buffer.alloc(0)) => Buffer.concat([header, pad(Buffer.from(data))]);
const EOF = Buffer.alloc(1024);

function rawPax(records: Array<[string, Buffer]>): Buffer {
  const body = Buffer.concat(
    records.map(([k, v]) => {
      const rest = Buffer.concat([Buffer.from(` ${k}=`), v, Buffer.from('\n')]);
      let len = rest.length + 1;
      while (String(len).length + rest.length !== len) len++;
      return Buffer.concat([Buffer.from(String(len)), rest]);
    }),
  );
  return tarMember({ name: 'PaxHeaders/x', type: 'x', data: body });
}

/** Archives for what no tool writes; each has a name the test reports. */
export function handBuilt(dir: string): CorpusArchive[] {
  const cases: Array<Omit<CorpusArchive, 'path' | 'writer' | 'format'> & { data: Buffer }> = [];
  const add = (name: string, data: Buffer, extra: Partial<CorpusArchive> = {}) => cases.push({ name, data, ...extra });
  const file = (name: string, data = `content of ${name}\n`): RawEntry => ({ name, data });

  // Numeric fields: a size of leading NULs is 0 (the bytes after it are the next header); base-256 size
  // and mtime; a blank size skips the member.
  add('size-leading-nuls', Buffer.concat([member(patched({ name: 'nul-size' }, [[124, Buffer.from('\0\0\0\x0000000012')]])), tarMember(file('after')), EOF]));
  const b256 = Buffer.alloc(12);
  b256[0] = 0x80;
  b256.writeUIntBE(5, 6, 6);
  const t256 = Buffer.alloc(12);
  t256[0] = 0x80;
  t256.writeUIntBE(1_600_000_000, 6, 6);
  add(
    'base-256-size-and-mtime',
    Buffer.concat([
      member(
        patched({ name: 'b256', size: 0 }, [
          [124, b256],
          [136, t256],
        ]),
        'five!',
      ),
      tarMember(file('after')),
      EOF,
    ]),
  );
  add('blank-size', Buffer.concat([member(patched({ name: 'blank-size' }, [[124, Buffer.alloc(12, 0x20)]])), tarMember(file('after')), EOF]), {
    expectWarnings: ['BAD_HEADER'],
  });
  // Types that carry no data, whatever their size says.
  const next = tarMember(file('read-as-next-header'));
  add('directory-with-size', Buffer.concat([tarHeader({ name: 'd/', type: '5', size: next.length }), next, tarMember(file('after')), EOF]), {
    expectWarnings: ['IGNORED_SIZE'],
  });
  add('slash-file-with-size', Buffer.concat([tarHeader({ name: 'slashdir/', type: '0', size: next.length }), next, EOF]), { expectWarnings: ['IGNORED_SIZE'] });
  add(
    'hardlink-with-size-no-data',
    Buffer.concat([tarMember(file('target')), tarHeader({ name: 'old-link', type: '1', linkname: 'target', size: 5 }), tarMember(file('after')), EOF]),
  );
  add(
    'absolute-hardlink-target',
    Buffer.concat([tarMember(file('f')), tarMember({ name: '/abs/l', type: '1', linkname: '/f' }), tarMember({ name: 'l2', type: '1', linkname: '//f' }), EOF]),
    {
      expectWarnings: ['ABSOLUTE_PATH', 'ABSOLUTE_PATH', 'ABSOLUTE_PATH'],
    },
  );
  add('unknown-type', Buffer.concat([tarMember({ name: 'weird', type: 'Z', data: 'data of an unknown type\n' }), EOF]), { expectWarnings: ['UNKNOWN_TYPE'] });
  // End of archive.
  const stray = Buffer.alloc(1024);
  stray[700] = 1;
  add('stray-byte-in-second-zero-block', Buffer.concat([tarMember(file('only')), stray]), { expectWarnings: ['END_OF_ARCHIVE'] });
  add('lone-zero-block-at-eof', Buffer.concat([tarMember(file('only')), Buffer.alloc(512)]));
  add('no-end-blocks', tarMember(file('only')), { expectError: 'E_ARCHIVE_TRUNCATED' });
  // Names as bytes: KOI8-R and Latin-1 in ustar headers, pax hdrcharset=BINARY.
  const rawNamed = (name: Buffer, data: string) => member(patched({ name: 'x', data }, [[0, Buffer.concat([name, Buffer.alloc(1)])]]), data);
  add('koi8r-latin1-ustar-headers', Buffer.concat([rawNamed(RAW_NAMES.koi8r, 'koi8\n'), rawNamed(RAW_NAMES.merge1, 'one\n'), rawNamed(RAW_NAMES.merge2, 'two\n'), EOF]));
  // Old tars summed the header as signed chars; GNU tar accepts either sum.
  const signed = patched({ name: 'x', data: 'signed sum\n' }, [[0, Buffer.concat([RAW_NAMES.latin1, Buffer.from('-signed'), Buffer.alloc(1)])]]);
  signed.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of signed) sum += (x << 24) >> 24;
  signed.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  add('signed-checksum', Buffer.concat([member(signed, 'signed sum\n'), EOF]));
  add(
    'pax-hdrcharset-binary',
    Buffer.concat([
      rawPax([
        ['hdrcharset', Buffer.from('BINARY')],
        ['path', RAW_NAMES.latin1],
      ]),
      tarMember(file('placeholder', 'latin-1 via pax\n')),
      rawPax([
        ['hdrcharset', Buffer.from('BINARY')],
        ['path', RAW_NAMES.cp866],
      ]),
      tarMember(file('placeholder2', 'cp866 via pax\n')),
      EOF,
    ]),
  );
  // Global records apply to every member after them (GNU tar: path and mtime too).
  const global = tarMember({ name: 'pax_global_header', type: 'g', data: Buffer.concat([paxRecord('mtime', '1000000000'), paxRecord('comment', 'made by hand')]) });
  add('global-pax-records', Buffer.concat([global, tarMember(file('first')), rawPax([['path', Buffer.from('renamed-by-local')]]), tarMember(file('second')), EOF]));
  // Malformed pax records: applied up to the bad one, with a warning.
  add(
    'pax-nul-in-key',
    Buffer.concat([
      rawPax([
        ['mtime', Buffer.from('1500000000')],
        ['bad\0key', Buffer.from('v')],
      ]),
      tarMember(file('after-nul-key')),
      EOF,
    ]),
    { expectWarnings: ['PAX_MALFORMED'] },
  );
  const noNewline = tarMember({ name: 'PaxHeaders/y', type: 'x', data: Buffer.concat([paxRecord('mtime', '1500000000'), Buffer.from('12 path=abc ')]) });
  add('pax-missing-newline', Buffer.concat([noNewline, tarMember(file('after-missing-newline')), EOF]), { expectWarnings: ['PAX_MALFORMED'] });
  const badLength = tarMember({ name: 'PaxHeaders/z', type: 'x', data: Buffer.from('99 path=nope\n') });
  add('pax-bad-length', Buffer.concat([badLength, tarMember(file('after-bad-length')), EOF]), { expectWarnings: ['PAX_MALFORMED'] });
  return cases.map((c) => {
    const path = join(dir, `hand-${c.name}.tar`);
    writeFileSync(path, c.data);
    const { data: _data, ...rest } = c;
    return { ...rest, writer: 'hand-built' as const, format: 'raw headers', path };
  });
}

export { tarArchive };
