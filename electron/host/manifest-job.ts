// "Add from manifest": a snapshot published in parts, from the manifest's URL (one bounded GET) or its text
// pasted into the window (parsed only: text is never taken for a path on the host). The parts become the
// job's engine options (engine/parts/parts-run.ts runs them) and its parts list, each waiting.
import { loadManifest } from '../engine/parts/manifest-source';
import { parseManifest, type ManifestPart } from '../engine/parts/manifest';
import { createDispatcher } from '../engine/transfer/http';
import { redactUrl } from '../engine/transfer/redact';
import { UsageError } from '../engine/errors';
import type { JobView } from '../../shared/contract';

export interface ManifestParts {
  parts: ManifestPart[];
  /** What the job is called by: the manifest's URL, else the first part's. */
  url: string;
  source: string;
}

export async function manifestParts(manifest: string): Promise<ManifestParts> {
  const text = manifest.trim();
  let parts: ManifestPart[];
  let source: string;
  let url: string | null = null;
  if (/^https?:\/\/\S+$/i.test(text)) {
    const dispatcher = createDispatcher({ connections: 1, connectTimeoutMs: 10_000, idleTimeoutMs: 30_000 });
    try {
      ({ parts, source } = await loadManifest(text, { dispatcher }));
    } finally {
      await dispatcher.destroy().catch(() => undefined);
    }
    url = text;
  } else {
    source = 'the pasted manifest';
    parts = parseManifest(text, { source });
  }
  if (parts.length === 0) throw new UsageError(`${source} lists no parts.`);
  return { parts, url: url ?? parts[0]!.url, source: redactUrl(source) };
}

/** The job's parts list as the window first sees it. */
export function partsView(parts: ManifestPart[]): NonNullable<JobView['parts']> {
  return parts.map((p) => ({
    index: p.index,
    name: p.name ?? (redactUrl(p.url).split('/').pop() || `part ${p.index + 1}`),
    size: p.size,
    state: 'waiting' as const,
    checksum: null,
    hasChecksum: !!(p.sha256 || p.md5),
  }));
}
