// The producer's partitioner must put every key where the Java client (and kafkajs' own default
// partitioner) puts it, or results of one key would land on two partitions after a client change.

import fc from 'fast-check'
import { Partitioners } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { JavaCompatiblePartitioner, partitionOfKey } from '../../../src/kafka/partitioner.ts'

const metadata = (n: number) =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    partitionErrorCode: 0,
    leader: 1,
    replicas: [1],
    isr: [1],
  }))

describe('partitionOfKey', () => {
  // Utils#murmur2 vectors of Apache Kafka's UtilsTest.testMurmur2 (signed 32-bit results).
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('gives the Java client partition of %s', (key, javaHash) => {
    for (const partitions of [1, 3, 7, 64]) {
      expect(partitionOfKey(key, partitions)).toBe((javaHash & 0x7fffffff) % partitions)
    }
  })

  it('agrees with kafkajs DefaultPartitioner for any key and partition count', () => {
    const kafkajs = Partitioners.DefaultPartitioner()
    const ours = JavaCompatiblePartitioner()
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.uint8Array().map((a) => Buffer.from(a)),
        ),
        fc.integer({ min: 1, max: 200 }),
        (key, n) => {
          const args = { topic: 't', partitionMetadata: metadata(n), message: { key, value: null } }
          expect(ours(args)).toBe(kafkajs(args))
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('keeps an explicit partition and spreads keyless records over all partitions', () => {
    const ours = JavaCompatiblePartitioner()
    expect(
      ours({ topic: 't', partitionMetadata: metadata(3), message: { key: 'k', partition: 2, value: null } }),
    ).toBe(2)
    const seen = new Set<number>()
    for (let i = 0; i < 30; i++) {
      seen.add(ours({ topic: 't', partitionMetadata: metadata(3), message: { key: null, value: null } }))
    }
    expect([...seen].sort()).toEqual([0, 1, 2])
  })
})
