// Chunk files in the state directory: `chunk-<index>.part` while a range is being fetched (its size is the
// committed prefix), `chunk-<index>.bin` once complete and fsynced. Only the window's chunks ever exist here.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { toEngineError } from './errors';
import type { RangeSink } from './range-fetch';

export class StagingArea {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
  }

  partPath(index: number): string {
    return join(this.dir, `chunk-${String(index).padStart(8, '0')}.part`);
  }

  stagedPath(index: number): string {
    return join(this.dir, `chunk-${String(index).padStart(8, '0')}.bin`);
  }

  /** Opens (or continues) the chunk's part file; its current size is the committed prefix. */
  async openPart(index: number): Promise<PartFile> {
    const path = this.partPath(index);
    const handle = await fsp.open(path, 'a');
    const { size } = await handle.stat();
    return new PartFile(path, handle, size);
  }

  /** Makes a complete part durable and visible as staged. */
  async commit(index: number, part: PartFile): Promise<void> {
    await part.handle.sync();
    await part.close();
    await fsp.rename(part.path, this.stagedPath(index));
  }

  async remove(index: number): Promise<void> {
    await fsp.rm(this.stagedPath(index), { force: true });
    await fsp.rm(this.partPath(index), { force: true });
  }

  /** Bytes currently held by chunk files (what the window costs on disk). */
  async stagedBytes(): Promise<number> {
    let total = 0;
    for (const name of await fsp.readdir(this.dir)) {
      if (!/^chunk-\d+\.(part|bin)$/.test(name)) continue;
      total += (await fsp.stat(join(this.dir, name)).catch(() => ({ size: 0 }))).size;
    }
    return total;
  }
}

export class PartFile implements RangeSink {
  private closed = false;

  constructor(
    readonly path: string,
    readonly handle: fsp.FileHandle,
    private size: number,
  ) {}

  get committed(): number {
    return this.size;
  }

  async write(data: Buffer): Promise<void> {
    let offset = 0;
    try {
      while (offset < data.length) {
        const { bytesWritten } = await this.handle.write(data, offset, data.length - offset);
        offset += bytesWritten;
      }
    } catch (err) {
      // Bytes written before the failure are on disk: count them, the next attempt continues after them.
      this.size += offset;
      throw toEngineError(Object.assign(err as Error, { path: this.path }), 'E_IO');
    }
    this.size += data.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}
