// What a chunk's attempts ask of the job's sources (see transfer/sources/): which source the next attempt
// goes to, and where a failure sends the retry. A range's committed prefix is continued only by a source
// proved to serve the same object as the one that began it; otherwise the prefix is dropped and fetched
// again, unless the extractor already read it (then only its own source may finish it).
import { EngineError } from '../errors';
import { redactUrl } from '../transfer/redact';
import type { ChunkRecord } from '../staging/chunk-records';
import type { ChunkPart } from '../staging/chunk-part';
import type { Source } from '../transfer/sources/source';
import type { SourceSet } from '../transfer/sources/source-set';
import type { PartGuard } from './part-guard';

/** Per chunk, across its attempts: the source its prefix came from, and the one its last attempt failed on. */
export interface SourceTrack {
  prefix: Source | null;
  avoid: Source | null;
}

/** A prefix kept from an earlier run came from the primary as far as this run knows. */
export function newTrack(sources: SourceSet, part: ChunkPart): SourceTrack {
  return { prefix: part.committed > 0 ? sources.sources[0]! : null, avoid: null };
}

/**
 * The source for the chunk's next attempt. A chunk the consumer reads while it arrives is fetched by proved
 * sources only; one fetched from an unproved source is not read before it is staged (see part-guard.ts).
 */
export async function sourceForAttempt(sources: SourceSet, rec: ChunkRecord, part: ChunkPart, track: SourceTrack, guard: PartGuard): Promise<Source> {
  const index = rec.index;
  let { source } = sources.choose(track.avoid);
  // The primary is proved by definition and never dropped.
  if (!source.provenSame && guard.isFollowed(index)) source = sources.sources[0]!;
  // Said before any wait below, so the consumer cannot begin to read what this attempt brings.
  guard.fetchingUnproven(index, !source.provenSame);
  const prefix = track.prefix;
  if (part.committed === 0 || prefix === null || sources.sameObject(prefix, source)) return source;
  if (await guard.restart(index, part)) {
    rec.bytes = 0;
    track.prefix = null;
    return source;
  }
  // The consumer has read the prefix: only a source proved the same as its own may finish it.
  if (prefix.state === 'dropped') {
    throw new EngineError(
      'E_RETRIES_EXHAUSTED',
      `Chunk ${index} was begun by ${redactUrl(prefix.url)}, now dropped (${prefix.reason ?? 'no reason'}), and its first bytes are already extracted: no other source is proved to serve the same bytes to finish it. Give --sha256 (or --md5), or run the job again without that mirror.`,
      { retryable: false, details: { chunk: index } },
    );
  }
  guard.fetchingUnproven(index, !prefix.provenSame);
  return prefix;
}

/** After an attempt: a prefix now on disk came from `source`. */
export function noteAttempt(track: SourceTrack, part: ChunkPart, source: Source): void {
  if (track.prefix === null && part.committed > 0) track.prefix = source;
}

/**
 * A failed attempt on `source`, counted against it (see SourceSet.failed). 'switch': another source is
 * usable, the retry goes there at once; 'mirror': a mirror failed and none else is usable now, the retry backs
 * off as with one source (never as the primary's link or quirks); 'primary': as with one source.
 */
export function routeFailure(sources: SourceSet, source: Source, e: EngineError, track: SourceTrack): 'switch' | 'mirror' | 'primary' {
  sources.failed(source, e);
  if (!sources.hasMirrors) return 'primary';
  // The primary's own verdicts stay the job's: a change of its file, a refused link, a 404.
  if (source.role === 'primary' && !e.retryable) return 'primary';
  track.avoid = source;
  if (sources.choose(source).switched) return 'switch';
  return source.role === 'mirror' ? 'mirror' : 'primary';
}
