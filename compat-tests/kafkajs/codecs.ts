// Compression codecs for kafkajs, which ships only gzip and expects the others to be registered.
// Written here on the npm packages the root already depends on rather than Krill's own codec
// module, so a bug in Krill's compression cannot hide itself by being on both ends.
//   snappy: raw snappy when compressing (what kafkajs-snappy and librdkafka send); decompresses raw
//           or xerial-framed (what the Java producer sends) data.
//   lz4:    the standard LZ4 frame format Kafka uses for magic-2 batches.
//   zstd:   a zstd frame, from Node's zlib.
import { zstdCompressSync, zstdDecompressSync } from "node:zlib";
import kafkajs from "kafkajs";
import { compressFrameSync, decompressFrameSync } from "lz4-napi";
import { compressSync as snappyCompressSync, uncompressSync as snappyUncompressSync } from "snappy";

// xerial's SnappyOutputStream header: magic (8 bytes), version (4), compatible version (4), then
// blocks of [length int32 BE][raw snappy block].
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
// A bound on what one batch may decompress to, so a hostile or corrupt frame cannot exhaust memory.
const DECOMPRESSED_BYTES_MAX = 64 * 1024 * 1024;

function snappyDecompress(data: Buffer): Buffer {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return snappyUncompressSync(data) as Buffer;
  }
  const blocks: Buffer[] = [];
  let total = 0;
  let at = XERIAL_HEADER_BYTES;
  while (at < data.length) {
    if (at + 4 > data.length) throw new Error("truncated xerial snappy block length");
    const length = data.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > data.length)
      throw new Error(`invalid xerial snappy block length ${length}`);
    const block = snappyUncompressSync(data.subarray(at, at + length)) as Buffer;
    total += block.length;
    if (total > DECOMPRESSED_BYTES_MAX) throw new Error("snappy data decompresses beyond the limit");
    blocks.push(block);
    at += length;
  }
  return Buffer.concat(blocks);
}

interface Encoder {
  buffer: Buffer;
}

function codec(compress: (data: Buffer) => Buffer, decompress: (data: Buffer) => Buffer) {
  return () => ({
    compress: async (encoder: Encoder) => compress(encoder.buffer),
    decompress: async (data: Buffer) => decompress(data),
  });
}

let registered = false;

export function registerCodecs(): void {
  if (registered) return;
  registered = true;
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  const codecs = CompressionCodecs as unknown as Record<number, unknown>;
  codecs[CompressionTypes.Snappy] = codec((d) => snappyCompressSync(d), snappyDecompress);
  codecs[CompressionTypes.LZ4] = codec(
    (d) => compressFrameSync(d),
    (d) => decompressFrameSync(d),
  );
  codecs[CompressionTypes.ZSTD] = codec(
    (d) => zstdCompressSync(d),
    (d) => zstdDecompressSync(d, { maxOutputLength: DECOMPRESSED_BYTES_MAX }),
  );
}
