/** The shared empty Buffer, default of every non-nullable bytes field (zero length: immutable). */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);
