import { createRequire } from 'node:module'
import { promisify } from 'node:util'
import { zstdCompress, zstdDecompress } from 'node:zlib'
import { compressFrame, decompressFrame } from 'lz4-napi'

/**
 * The compression codecs of a Kafka record batch that kafkajs does not bring (it has gzip only and throws
 * `KafkaJSNotImplemented` for the others, which crashes a consumer for good). Kafka defines four: gzip
 * (1), snappy (2), lz4 (3), zstd (4) (record batch `attributes` bits 0-2, KIP-110 for zstd). A producer
 * picks one with its `compression.type`, or a topic's own `compression.type` makes the broker
 * recompress, so a consumer must read all four. Registered into kafkajs by `createKafka` (src/kafka/client.ts).
 *
 * - snappy: `kafkajs-snappy` (the kafkajs author's codec, pure JavaScript `snappyjs`): reads both the raw
 *   snappy block librdkafka writes and the xerial framing (a 16-byte header, then length-prefixed blocks)
 *   of the Java client's `SnappyOutputStream`.
 * - lz4: `lz4-napi` (lz4_flex through N-API, prebuilt per platform as optional dependencies, no install
 *   script): `decompressFrame`, since Kafka writes the LZ4 *frame* format (KafkaLZ4BlockOutputStream; its
 *   header checksum is the standard one from magic 1 on, KIP-57).
 * - zstd: Node's own zlib (`zstdDecompress`, Node >= 23.8), standard zstd frames as zstd-jni writes them.
 *
 * Each codec is kafkajs' interface: `compress(encoder)` gets kafkajs' Encoder (its `buffer`), resolves to
 * the compressed bytes; `decompress(buffer)` to the plain bytes; both reject on corrupt input.
 */
export interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}

const zstdCompressAsync = promisify(zstdCompress)
const zstdDecompressAsync = promisify(zstdDecompress)

/** The lz4 codec (LZ4 frame format). */
export const lz4Codec: KafkajsCodec = {
  compress: (encoder) => compressFrame(encoder.buffer),
  decompress: (buffer) => decompressFrame(buffer),
}

/** The zstd codec (zstd frames). */
export const zstdCodec: KafkajsCodec = {
  compress: (encoder) => zstdCompressAsync(encoder.buffer),
  decompress: (buffer) => zstdDecompressAsync(buffer),
}

/** The snappy codec (raw or xerial-framed snappy). kafkajs-snappy ships no types: its export is typed here. */
export const snappyCodec: KafkajsCodec = (
  createRequire(import.meta.url)('kafkajs-snappy') as () => KafkajsCodec
)()
