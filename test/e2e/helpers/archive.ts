// A small node snapshot made here: a tree of files packed as .tar.gz with tar-stream, and the digest
// of every file so the extracted tree can be checked byte for byte.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';

export type Tree = Map<string, string>;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Random (incompressible) data files of the given sizes plus a few small text files. */
export async function makeSnapshot(path: string, dataSizes: number[]): Promise<Tree> {
  const files: Array<[string, Buffer]> = [
    ['node/config.toml', Buffer.from('[p2p]\nseeds = "a@127.0.0.1:26656"\n')],
    ['node/data/priv_validator_state.json', Buffer.from('{"height":"0","round":0,"step":0}\n')],
    ...dataSizes.map((size, i): [string, Buffer] => [`node/data/blockstore/${String(i).padStart(6, '0')}.ldb`, randomBytes(size)]),
  ];
  const pack = tar.pack();
  const done = pipeline(pack, createGzip({ level: 1 }), createWriteStream(path));
  pack.entry({ name: 'node/', type: 'directory', mode: 0o755 });
  for (const [name, data] of files) {
    await new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mode: 0o644 }, data, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return new Map(files.map(([name, data]) => [name, sha256(data)]));
}

/** Every regular file under `root`, by path relative to it (forward slashes), with its digest. */
export async function readTree(root: string): Promise<Tree> {
  const out: Tree = new Map();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.set(relative(root, full).split('\\').join('/'), sha256(await readFile(full)));
    }
  };
  await walk(root);
  return out;
}
