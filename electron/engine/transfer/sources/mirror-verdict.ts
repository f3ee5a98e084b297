// Whether a mirror's probe says it serves the primary's file. A different size is a different file. Strong
// ETags that differ mean different bytes unless a checksum will judge the result; equal strong ETags (with
// the size) prove the same object, so its bytes may continue a range another source began. Without a strong
// ETag on both sides only the size and a checksum can tell: the mirror is used, and the operator told so.
import type { ProbeResult } from '../probe';
import { redactUrl } from '../redact';

export type MirrorVerdict = { use: true; provenSame: boolean; warning: string | null } | { use: false; reason: string };

export function mirrorVerdict(primary: ProbeResult, mirror: ProbeResult, checksumGiven: boolean): MirrorVerdict {
  const name = redactUrl(mirror.finalUrl);
  if (!mirror.rangeSupported) return { use: false, reason: `${name} does not serve byte ranges` };
  if (mirror.size !== primary.size) return { use: false, reason: `${name} has ${mirror.size ?? 'an unknown number of'} bytes, the URL ${primary.size}: not the same file` };
  const both = primary.etag !== null && mirror.etag !== null;
  if (both && primary.etag !== mirror.etag) {
    if (checksumGiven) return { use: true, provenSame: true, warning: null };
    return {
      use: false,
      reason: `${name} sends ETag ${mirror.etag}, the URL ${primary.etag}: different bytes under the same name as far as anything can tell without --sha256 or --md5`,
    };
  }
  if (both || checksumGiven) return { use: true, provenSame: true, warning: null };
  return {
    use: true,
    provenSame: false,
    warning: `${name} and the URL do not both send a strong ETag: a mirror serving different bytes of the same size would only be caught by --sha256/--md5. Ranges it begins are finished by it alone.`,
  };
}
