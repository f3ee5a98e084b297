// Which checksums a job verifies: the operator's (--sha256 / --md5) win; a sidecar fills in what they did
// not give; a sidecar that disagrees with the operator is worth a warning (one of them names another file).
import { DIGEST_KINDS, DIGEST_LABEL, type DigestKind } from './checksum-text';
import type { SidecarChecksums } from './sidecar';

export interface ChecksumChoice {
  sha256: string | null;
  md5: string | null;
  warnings: Array<{ code: 'SIDECAR_DISAGREES' | 'SIDECAR_USED' | 'SIDECAR_UNUSED'; message: string }>;
}

/**
 * `verifiable`: the kinds the job can verify (a sidecar's digest of another kind is reported, not used).
 */
export function chooseChecksums(
  explicit: { sha256?: string | null; md5?: string | null },
  sidecar: SidecarChecksums | null,
  verifiable: readonly DigestKind[] = DIGEST_KINDS,
): ChecksumChoice {
  const out: ChecksumChoice = { sha256: explicit.sha256 ?? null, md5: explicit.md5 ?? null, warnings: [] };
  if (!sidecar) return out;
  for (const kind of DIGEST_KINDS) {
    const published = sidecar[kind];
    if (!published) continue;
    const given = out[kind];
    if (given !== null) {
      if (given !== published) {
        out.warnings.push({
          code: 'SIDECAR_DISAGREES',
          message: `The ${DIGEST_LABEL[kind]} published beside the file (${sidecar.source}) is ${published}, not the ${given} given; the one given is verified.`,
        });
      }
      continue;
    }
    if (!verifiable.includes(kind)) {
      out.warnings.push({
        code: 'SIDECAR_UNUSED',
        message: `A ${DIGEST_LABEL[kind]} is published beside the file (${sidecar.source}), but this build cannot verify ${DIGEST_LABEL[kind]} yet.`,
      });
      continue;
    }
    out[kind] = published;
    out.warnings.push({ code: 'SIDECAR_USED', message: `The ${DIGEST_LABEL[kind]} published beside the file (${sidecar.source}) is verified: ${published}.` });
  }
  return out;
}
