// A malformed structure inside a block. The parsers know only positions inside their block, so they
// throw this, and the frame decoder turns it into an E_ARCHIVE_CORRUPT with the block's file offset.
export class ZstdFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZstdFault';
  }
}

export function fault(message: string): never {
  throw new ZstdFault(message);
}
