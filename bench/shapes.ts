// Two archive shapes made from the same bytes, for the write path: a small-file tree of real files (this
// machine's /usr/share/doc, /usr/share/man, /usr/share/perl and /usr/lib/python3.11: ~30,000 entries, ~270 MB)
// and a large-file tree holding those bytes as 16 MiB files (like a node's SST and ancient files). Each as a
// GNU tar and a .tar.gz (gzip -6), with the manifest of GNU tar's own extraction. Made once, reused.
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { InputFile } from './inputs';
import { buildManifest, sha256File } from './manifest';
import { quote, sh } from './shell';

export type ShapeLabel = 'shape-small' | 'shape-large';

/** The real trees the small-file shape is taken from: regular files and folders only (links may point out). */
const SOURCES = ['/usr/share/doc', '/usr/share/man', '/usr/share/perl', '/usr/lib/python3.11'];
const LARGE_FILE_BYTES = 16 * 1024 * 1024;
const FORMAT_VERSION = 1;

export interface ShapeInputs {
  label: ShapeLabel;
  tar: InputFile;
  gzip: InputFile;
}

export async function prepareShapes(workDir: string, serveDir: string, metaDir: string, log: (msg: string) => void): Promise<ShapeInputs[]> {
  const metaPath = join(metaDir, 'shapes.inputs.json');
  if (existsSync(metaPath)) {
    const known = JSON.parse(await fsp.readFile(metaPath, 'utf8')) as { version: number; shapes: ShapeInputs[] };
    if (known.version === FORMAT_VERSION && known.shapes.every((s) => existsSync(join(serveDir, s.tar.name)) && existsSync(join(serveDir, s.gzip.name)))) return known.shapes;
  }
  const sources = SOURCES.filter((s) => existsSync(s));
  if (sources.length === 0) throw new Error(`none of ${SOURCES.join(', ')} exists: the small-file shape needs real files`);
  const small = join(serveDir, 'shape-small.tar');
  const large = join(serveDir, 'shape-large.tar');
  const list = join(workDir, 'shape-small.list');
  log(`making shape-small.tar from ${sources.join(', ')}`);
  // Relative paths, regular files and folders only, in a stable order.
  await sh(`cd / && find ${sources.map((s) => quote(s.slice(1))).join(' ')} \\( -type f -o -type d \\) -print | LC_ALL=C sort > ${quote(list)}`);
  await sh(`tar --format=gnu --no-recursion -cf ${quote(small)} -C / -T ${quote(list)}`);
  log('making shape-large.tar: the same bytes as 16 MiB files');
  const tree = join(workDir, 'tree-shape-large');
  await fsp.rm(tree, { recursive: true, force: true });
  await fsp.mkdir(tree, { recursive: true });
  await sh(`split -b ${LARGE_FILE_BYTES} -d -a 3 ${quote(small)} ${quote(join(tree, 'table-'))}`);
  await sh(`tar --format=gnu -cf ${quote(large)} -C ${quote(tree)} .`);
  await fsp.rm(tree, { recursive: true, force: true });
  const shapes: ShapeInputs[] = [];
  for (const [label, tar] of [
    ['shape-small', small],
    ['shape-large', large],
  ] as const) {
    const gz = tar.replace(/\.tar$/, '.tar.gz');
    log(`gzip -6 ${label}.tar.gz`);
    await sh(`gzip -6 -c ${quote(tar)} > ${quote(gz)}.tmp && mv ${quote(gz)}.tmp ${quote(gz)}`);
    const ref = join(workDir, `reference-${label}`);
    await fsp.rm(ref, { recursive: true, force: true });
    await fsp.mkdir(ref);
    log(`reference extraction with GNU tar (${label}.tar)`);
    await sh(`tar -xf ${quote(tar)} -C ${quote(ref)}`);
    const manifest = await buildManifest(ref);
    await fsp.rm(ref, { recursive: true, force: true });
    await fsp.writeFile(join(metaDir, `${label}.json`), JSON.stringify(manifest));
    const treeBytes = Object.values(manifest).reduce((n, e) => n + e.size, 0);
    const files = Object.values(manifest).filter((e) => e.type === 'file').length;
    const describe = async (path: string, variant: 'tar' | 'gzip'): Promise<InputFile> => ({
      name: path.slice(serveDir.length + 1),
      label,
      variant,
      bytes: (await fsp.stat(path)).size,
      sha256: await sha256File(path),
      treeBytes,
      files,
    });
    shapes.push({ label, tar: await describe(tar, 'tar'), gzip: await describe(gz, 'gzip') });
  }
  await fsp.writeFile(metaPath, JSON.stringify({ version: FORMAT_VERSION, shapes }, null, 1));
  return shapes;
}
