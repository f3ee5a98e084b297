// The expected checksums against the ones computed: a mismatch is an IntegrityError (exit 4) naming which
// digest failed, and for a part of a manifest, which part.
import { IntegrityError } from '../errors';
import { DIGEST_KINDS, DIGEST_LABEL, type DigestKind } from './checksum-text';

export type ExpectedDigests = Partial<Record<DigestKind, string | null>>;

/** The kinds that have an expected value. */
export function expectedKinds(expected: ExpectedDigests): DigestKind[] {
  return DIGEST_KINDS.filter((k) => typeof expected[k] === 'string' && expected[k] !== '');
}

/**
 * Throws when a computed digest differs from the expected one (or was not computed at all); `what` names the
 * download (e.g. `part 3 (bsc-3.tar.lz4)`) in the message.
 */
export function verifyDigests(expected: ExpectedDigests, actual: Partial<Record<DigestKind, string | null>>, what?: string): void {
  for (const kind of expectedKinds(expected)) {
    const want = expected[kind]!.toLowerCase();
    const got = actual[kind]?.toLowerCase() ?? null;
    if (got === want) continue;
    const subject = what ? ` for ${what}` : '';
    throw new IntegrityError(
      got === null
        ? `The ${DIGEST_LABEL[kind]}${subject} was expected to be ${want} but was not computed; the download is not verified, do not use it.`
        : `${DIGEST_LABEL[kind]} mismatch${subject}: expected ${want}, got ${got}. The download does not match the published checksum; do not use it.`,
      { details: { digest: kind, expected: want, actual: got, ...(what ? { part: what } : {}) } },
    );
  }
}
