// The benchmark's inputs, generated once and reused from the work dir: per size a GNU tar archive
// compressed with gzip -6; at the smallest size also the plain tar, a pigz archive, a multi-member gzip,
// a .tar.lz4 and a .tar.zst of the same tar. Each size has a manifest of GNU tar's own extraction, the
// reference for every result.
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { buildManifest, sha256File, type Manifest } from './manifest';
import { quote, sh } from './shell';
import { expectedRatio, generateTree } from './tree-gen';

export type Variant = 'gzip' | 'pigz' | 'tar' | 'multi' | 'lz4' | 'zstd';

/** The decoder a pipeline needs for a variant. */
export function decoderOf(variant: Variant | string): 'gzip' | 'lz4' | 'zstd' | null {
  return variant === 'tar' ? null : variant === 'lz4' || variant === 'zstd' ? variant : 'gzip';
}

export interface InputFile {
  /** Path under the served folder, e.g. "snap-256M.tar.gz". */
  name: string;
  label: string;
  variant: Variant;
  bytes: number;
  sha256: string;
  /** Bytes of the extracted tree (file contents). */
  treeBytes: number;
  files: number;
}

export interface Inputs {
  serveDir: string;
  files: InputFile[];
  manifest(label: string): Promise<Manifest>;
  find(label: string, variant: Variant): InputFile;
}

const FORMAT_VERSION = 1;

function fileName(label: string, variant: Variant): string {
  if (variant === 'lz4') return `snap-${label}.tar.lz4`;
  if (variant === 'zstd') return `snap-${label}.tar.zst`;
  return variant === 'tar' ? `snap-${label}.tar` : variant === 'gzip' ? `snap-${label}.tar.gz` : `snap-${label}-${variant}.tar.gz`;
}

/** Makes sure every input for `sizes` exists under `workDir` (generating what is missing) and describes them. */
export async function prepareInputs(workDir: string, sizes: Array<{ label: string; bytes: number }>, log: (msg: string) => void): Promise<Inputs> {
  const serveDir = join(workDir, 'serve');
  const metaDir = join(workDir, 'manifests');
  await fsp.mkdir(serveDir, { recursive: true });
  await fsp.mkdir(metaDir, { recursive: true });
  const smallest = [...sizes].sort((a, b) => a.bytes - b.bytes)[0]!.label;
  const files: InputFile[] = [];
  for (const size of sizes) {
    const variants: Variant[] = size.label === smallest ? ['gzip', 'pigz', 'tar', 'multi', 'lz4', 'zstd'] : ['gzip'];
    files.push(...(await prepareSize(workDir, serveDir, metaDir, size, variants, log)));
  }
  const manifests = new Map<string, Manifest>();
  return {
    serveDir,
    files,
    async manifest(label) {
      let m = manifests.get(label);
      if (!m) {
        m = JSON.parse(await fsp.readFile(join(metaDir, `${label}.json`), 'utf8')) as Manifest;
        manifests.set(label, m);
      }
      return m;
    },
    find(label, variant) {
      const f = files.find((x) => x.label === label && x.variant === variant);
      if (!f) throw new Error(`no ${variant} input of size ${label}`);
      return f;
    },
  };
}

async function prepareSize(
  workDir: string,
  serveDir: string,
  metaDir: string,
  size: { label: string; bytes: number },
  variants: Variant[],
  log: (msg: string) => void,
): Promise<InputFile[]> {
  const metaPath = join(metaDir, `${size.label}.inputs.json`);
  const known: InputFile[] = existsSync(metaPath) ? (JSON.parse(await fsp.readFile(metaPath, 'utf8')) as { version: number; files: InputFile[] }).files : [];
  const usable = known.filter((f) => existsSync(join(serveDir, f.name)));
  if (variants.every((v) => usable.some((f) => f.variant === v))) return usable.filter((f) => variants.includes(f.variant));

  const tar = join(serveDir, fileName(size.label, 'tar'));
  const gz = join(serveDir, fileName(size.label, 'gzip'));
  let treeBytes = usable[0]?.treeBytes ?? 0;
  let files = usable[0]?.files ?? 0;
  if (!existsSync(tar) && existsSync(gz)) {
    // The variants must hold the very same tar as the gzip input (and its manifest): unpack, never regenerate.
    await sh(`gzip -dc ${quote(gz)} > ${quote(tar)}.tmp && mv ${quote(tar)}.tmp ${quote(tar)}`);
  } else if (!existsSync(tar)) {
    const tree = join(workDir, `tree-${size.label}`);
    await fsp.rm(tree, { recursive: true, force: true });
    const target = Math.round(size.bytes / expectedRatio());
    log(`generating a ${(target / 2 ** 20).toFixed(0)} MiB tree for the ${size.label} inputs`);
    const stats = await generateTree(tree, target, size.bytes % 1000);
    treeBytes = stats.bytes;
    files = stats.files;
    await sh(`tar --format=gnu -cf ${quote(tar)} -C ${quote(tree)} data config`);
    await fsp.rm(tree, { recursive: true, force: true });
  }
  const made: Variant[] = [];
  if (!existsSync(gz)) {
    log(`gzip -6 ${fileName(size.label, 'gzip')}`);
    await sh(`gzip -6 -c ${quote(tar)} > ${quote(gz)}.tmp && mv ${quote(gz)}.tmp ${quote(gz)}`);
    made.push('gzip');
  }
  for (const v of variants) {
    const out = join(serveDir, fileName(size.label, v));
    if (existsSync(out)) continue;
    log(`making ${fileName(size.label, v)}`);
    // Multi-member: independent 32 MiB pieces, as some snapshot pipelines write them.
    if (v === 'pigz') await sh(`pigz -6 -c ${quote(tar)} > ${quote(out)}.tmp && mv ${quote(out)}.tmp ${quote(out)}`);
    // What the tools write by default: lz4's 4 MiB independent blocks with a content checksum; zstd -3 -T0, one frame.
    if (v === 'lz4') await sh(`lz4 -q -c ${quote(tar)} > ${quote(out)}.tmp && mv ${quote(out)}.tmp ${quote(out)}`);
    if (v === 'zstd') await sh(`zstd -q -3 -T0 -c ${quote(tar)} > ${quote(out)}.tmp && mv ${quote(out)}.tmp ${quote(out)}`);
    if (v === 'multi') await sh(`split -b 32M --filter='gzip -6' ${quote(tar)} > ${quote(out)}.tmp && mv ${quote(out)}.tmp ${quote(out)}`);
    made.push(v);
  }
  const manifestPath = join(metaDir, `${size.label}.json`);
  if (made.includes('gzip') || !existsSync(manifestPath)) {
    const ref = join(workDir, `reference-${size.label}`);
    await fsp.rm(ref, { recursive: true, force: true });
    await fsp.mkdir(ref);
    log(`reference extraction with GNU tar (${fileName(size.label, 'gzip')})`);
    await sh(`tar -xzf ${quote(gz)} -C ${quote(ref)}`);
    const manifest = await buildManifest(ref);
    await fsp.writeFile(manifestPath, JSON.stringify(manifest));
    await fsp.rm(ref, { recursive: true, force: true });
    if (!treeBytes) {
      treeBytes = Object.values(manifest).reduce((n, e) => n + e.size, 0);
      files = Object.values(manifest).filter((e) => e.type === 'file').length;
    }
  }
  if (!variants.includes('tar')) await fsp.rm(tar, { force: true });

  const result: InputFile[] = [];
  for (const v of variants) {
    const name = fileName(size.label, v);
    const path = join(serveDir, name);
    const old = usable.find((f) => f.variant === v && !made.includes(v));
    const st = await fsp.stat(path);
    result.push(old ?? { name, label: size.label, variant: v, bytes: st.size, sha256: await sha256File(path), treeBytes, files });
  }
  await fsp.writeFile(metaPath, JSON.stringify({ version: FORMAT_VERSION, files: result }, null, 1));
  return result;
}
