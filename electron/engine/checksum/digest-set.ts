// The digests of the downloaded stream, SHA-256 and/or MD5, that survive a restart: hash-wasm's hashers can
// save and load their state (Node's crypto cannot), so the state goes with each extraction checkpoint. All
// kinds advance together over the same bytes; a saved state names its position, and every kind must agree.
import { promises as fsp } from 'node:fs';
import type { IHasher } from 'hash-wasm';
import { EngineError } from '../errors';
import { DIGEST_LABEL, type DigestKind } from './checksum-text';

/** One digest's saved state: the shape checkpoints have held for SHA-256 since the first version. */
export interface SavedDigest {
  state: string;
  position: number;
}

/** The checkpoint fields this set reads and writes (`sha256` as before; `md5` beside it). */
export interface SavedDigests {
  sha256: SavedDigest | null;
  md5?: SavedDigest | null;
}

export type DigestValues = Partial<Record<DigestKind, string>>;

// Loaded by the first job that hashes resumably: a download-only job or one without a checksum never needs it.
const hashWasm = () => require('hash-wasm') as typeof import('hash-wasm');
const FACTORIES: Record<DigestKind, () => Promise<IHasher>> = { sha256: () => hashWasm().createSHA256(), md5: () => hashWasm().createMD5() };

/**
 * Why `saved` cannot resume digests of `kinds`, or null when it can: every kind must have a state, and all at
 * the same position (a checkpoint written before MD5 was asked for has none for it).
 */
export function digestResumeProblem(saved: Partial<SavedDigests> | null | undefined, kinds: readonly DigestKind[]): string | null {
  let position: number | null = null;
  for (const kind of kinds) {
    const s = saved?.[kind];
    if (!s || typeof s.state !== 'string' || typeof s.position !== 'number') return `it holds no ${DIGEST_LABEL[kind]} state, and the checksum must cover every byte`;
    if (position !== null && s.position !== position) return 'its checksum states are at different positions';
    position = s.position;
  }
  return null;
}

export class ResumableDigests {
  private constructor(
    private readonly hashers: ReadonlyMap<DigestKind, IHasher>,
    private _position: number,
  ) {}

  /** Digests of `kinds` from byte 0, or from `saved` (see digestResumeProblem for when that is possible). */
  static async create(kinds: readonly DigestKind[], saved?: Partial<SavedDigests> | null): Promise<ResumableDigests> {
    const unique = [...new Set(kinds)];
    if (unique.length === 0) throw new EngineError('E_INTERNAL', 'a digest set needs at least one kind');
    if (saved) {
      const problem = digestResumeProblem(saved, unique);
      if (problem) throw new EngineError('E_STATE_UNREADABLE', `The saved checksum state cannot be resumed: ${problem}.`);
    }
    const hashers = new Map<DigestKind, IHasher>();
    for (const kind of unique) {
      const hasher = await FACTORIES[kind]();
      hasher.init();
      const s = saved?.[kind];
      if (s) {
        try {
          hasher.load(Buffer.from(s.state, 'base64'));
        } catch (err) {
          throw new EngineError('E_STATE_UNREADABLE', `The saved ${DIGEST_LABEL[kind]} state is damaged.`, { cause: err });
        }
      }
      hashers.set(kind, hasher);
    }
    const position = saved ? saved[unique[0]!]!.position : 0;
    return new ResumableDigests(hashers, position);
  }

  get kinds(): DigestKind[] {
    return [...this.hashers.keys()];
  }

  /** Bytes of the stream hashed so far. */
  get position(): number {
    return this._position;
  }

  /** Hashes bytes that follow `position` directly. */
  update(data: Uint8Array): void {
    for (const h of this.hashers.values()) h.update(data);
    this._position += data.length;
  }

  /** Hashes the stream up to byte `to`, reading it from the chunk files (`pathOf(index)`, `chunkSize` each). */
  async advanceTo(to: number, chunkSize: number, pathOf: (index: number) => string): Promise<void> {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    while (this._position < to) {
      const index = Math.floor(this._position / chunkSize);
      const offsetInChunk = this._position - index * chunkSize;
      const want = Math.min(to - this._position, chunkSize - offsetInChunk, buf.length);
      const handle = await fsp.open(pathOf(index), 'r');
      try {
        const { bytesRead } = await handle.read(buf, 0, want, offsetInChunk);
        if (bytesRead === 0) throw new Error(`chunk file ${pathOf(index)} ends before byte ${offsetInChunk}`);
        this.update(buf.subarray(0, bytesRead));
      } finally {
        await handle.close();
      }
    }
  }

  /** The state of every kind at `position`, as checkpoint fields (a kind not hashed is null). */
  save(): SavedDigests {
    const one = (kind: DigestKind): SavedDigest | null => {
      const h = this.hashers.get(kind);
      return h ? { state: Buffer.from(h.save()).toString('base64'), position: this._position } : null;
    };
    return { sha256: one('sha256'), md5: one('md5') };
  }

  /** The final digests (lowercase hex); the set is used up. */
  digest(): DigestValues {
    const out: DigestValues = {};
    for (const [kind, h] of this.hashers) out[kind] = h.digest('hex');
    return out;
  }
}
