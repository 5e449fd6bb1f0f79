// The Batcher: batches per systemName, closed on maxFiles, maxBytes, lingerMs or drain().
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Batcher, type BatcherOptions } from '../../../src/batcher/batcher.ts'
import { type Batch, ENVELOPE_BYTES } from '../../../src/model/files.ts'
import { pendingFile, resetPendingFileOffsets } from '../../support/pending-file.ts'
import { recordSpans } from '../../support/span-recorder.ts'

const file = pendingFile

function setup(options: Partial<BatcherOptions> = {}) {
  const batches: Batch[] = []
  const batcher = new Batcher({ maxFiles: 10, maxBytes: 100_000, lingerMs: 1000, ...options }, (b) => {
    batches.push(b)
  })
  return { batcher, batches }
}

const ids = (b: Batch | undefined) => b?.files.map((f) => f.event.externalId)

beforeEach(() => {
  vi.useFakeTimers()
  resetPendingFileOffsets()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('Batcher constructor', () => {
  it('rejects maxBytes equal to ENVELOPE_BYTES', () => {
    // Given / When / Then
    expect(() => new Batcher({ maxFiles: 1, maxBytes: ENVELOPE_BYTES, lingerMs: 0 }, () => {})).toThrow(
      /maxBytes must be above/,
    )
  })

  it('rejects maxBytes below ENVELOPE_BYTES', () => {
    expect(() => new Batcher({ maxFiles: 1, maxBytes: 10, lingerMs: 0 }, () => {})).toThrow()
  })

  it('accepts maxBytes just above ENVELOPE_BYTES', () => {
    expect(
      () => new Batcher({ maxFiles: 1, maxBytes: ENVELOPE_BYTES + 1, lingerMs: 0 }, () => {}),
    ).not.toThrow()
  })
})

describe('flush on maxFiles', () => {
  it('closes the batch synchronously when it reaches maxFiles', () => {
    // Given a batcher of at most 3 files
    const { batcher, batches } = setup({ maxFiles: 3 })
    // When 2 files arrive
    batcher.add(file('a'))
    batcher.add(file('b'))
    // Then nothing is flushed yet
    expect(batches).toHaveLength(0)
    expect(batcher.buffered).toBe(2)
    // When the third arrives
    batcher.add(file('c'))
    // Then one batch of 3 closes with reason max-files
    expect(batches).toHaveLength(1)
    expect(batches[0]).toMatchObject({ systemName: 'archive', closedBy: 'max-files' })
    expect(ids(batches[0])).toEqual(['a', 'b', 'c'])
    expect(batcher.buffered).toBe(0)
  })

  it('closes every file alone with maxFiles 1', () => {
    const { batcher, batches } = setup({ maxFiles: 1 })
    batcher.add(file('a'))
    batcher.add(file('b'))
    expect(batches.map(ids)).toEqual([['a'], ['b']])
    expect(batches.every((b) => b.closedBy === 'max-files')).toBe(true)
  })

  it('clears the linger timer of a batch closed by maxFiles', () => {
    // Given a batch closed by maxFiles
    const { batcher, batches } = setup({ maxFiles: 2, lingerMs: 50 })
    batcher.add(file('a'))
    batcher.add(file('b'))
    // Then no timer remains and nothing more flushes later
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(1000)
    expect(batches).toHaveLength(1)
  })
})

describe('flush on maxBytes', () => {
  it('closes the open batch first when the next file would pass maxBytes', () => {
    // Given room for the envelope plus 250 bytes
    const { batcher, batches } = setup({ maxBytes: ENVELOPE_BYTES + 250 })
    batcher.add(file('a', { bytes: 100 }))
    batcher.add(file('b', { bytes: 100 }))
    expect(batches).toHaveLength(0)
    // When a third file of 100 bytes would make 300 > 250
    batcher.add(file('c', { bytes: 100 }))
    // Then the batch of a, b closes with reason max-bytes, and c opens the next batch
    expect(batches).toHaveLength(1)
    expect(batches[0]?.closedBy).toBe('max-bytes')
    expect(ids(batches[0])).toEqual(['a', 'b'])
    expect(batches[0]?.bytes).toBe(ENVELOPE_BYTES + 200)
    expect(batcher.buffered).toBe(1)
    batcher.drain()
    expect(ids(batches[1])).toEqual(['c'])
    expect(batches[1]?.bytes).toBe(ENVELOPE_BYTES + 100)
  })

  it('keeps a file that exactly reaches maxBytes in the open batch', () => {
    // Given room for exactly 200 bytes of entries
    const { batcher, batches } = setup({ maxBytes: ENVELOPE_BYTES + 200 })
    // When two files of 100 bytes arrive
    batcher.add(file('a', { bytes: 100 }))
    batcher.add(file('b', { bytes: 100 }))
    // Then they still share one open batch
    expect(batches).toHaveLength(0)
    batcher.drain()
    expect(ids(batches[0])).toEqual(['a', 'b'])
    expect(batches[0]?.bytes).toBe(ENVELOPE_BYTES + 200)
  })

  it('hands a file too large for any request to onOversized with a reason naming the limit, between batches', () => {
    // Given a batcher with room for 100 bytes of entries and an open batch
    const oversized: Array<[string, string]> = []
    const batches: Batch[] = []
    const batcher = new Batcher(
      { maxFiles: 10, maxBytes: ENVELOPE_BYTES + 100, lingerMs: 1000 },
      (b) => batches.push(b),
      (f, reason) => oversized.push([f.event.externalId, reason]),
    )
    batcher.add(file('small', { bytes: 50 }))
    // When a file of 101 bytes arrives
    batcher.add(file('big', { bytes: 101 }))
    // Then it is handed on at once with the sizes and the setting, and the open batch is untouched
    expect(oversized).toEqual([
      ['big', expect.stringMatching(/101 bytes.*at most 100 bytes.*BATCH_MAX_BYTES=1124.*500 kB/)],
    ])
    expect(batcher.buffered).toBe(1)
    batcher.drain()
    expect(ids(batches[0])).toEqual(['small'])
  })

  it('throws for a file larger than maxBytes allows when there is no onOversized, and buffers nothing', () => {
    const { batcher, batches } = setup({ maxBytes: ENVELOPE_BYTES + 100 })
    expect(() => batcher.add(file('big', { bytes: 101 }))).toThrow(/cannot fit/)
    expect(batcher.buffered).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    batcher.drain()
    expect(batches).toHaveLength(0)
  })

  it('accepts a single file that exactly fills maxBytes', () => {
    const { batcher } = setup({ maxBytes: ENVELOPE_BYTES + 100 })
    expect(() => batcher.add(file('fits', { bytes: 100 }))).not.toThrow()
    expect(batcher.buffered).toBe(1)
  })
})

describe('flush on lingerMs', () => {
  it('arms no timer while nothing is buffered', () => {
    // Given a fresh batcher
    setup({ lingerMs: 100 })
    // Then no timer runs
    expect(vi.getTimerCount()).toBe(0)
  })

  it('closes the batch lingerMs after its first file, not after its last', () => {
    // Given lingerMs 100
    const { batcher, batches } = setup({ lingerMs: 100 })
    // When a file arrives at t=0 and another at t=60
    batcher.add(file('a'))
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(60)
    batcher.add(file('b'))
    // Then one timer serves the batch
    expect(vi.getTimerCount()).toBe(1)
    // and at t=99 nothing is flushed
    vi.advanceTimersByTime(39)
    expect(batches).toHaveLength(0)
    // and at t=100 the batch closes with both files
    vi.advanceTimersByTime(1)
    expect(batches).toHaveLength(1)
    expect(batches[0]?.closedBy).toBe('linger')
    expect(ids(batches[0])).toEqual(['a', 'b'])
    expect(batcher.buffered).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('with lingerMs 0 flushes on the next tick', () => {
    const { batcher, batches } = setup({ lingerMs: 0 })
    batcher.add(file('a'))
    expect(batches).toHaveLength(0)
    vi.advanceTimersByTime(0)
    expect(ids(batches[0])).toEqual(['a'])
  })

  it('starts a fresh linger window for the batch after a flush', () => {
    const { batcher, batches } = setup({ lingerMs: 100 })
    batcher.add(file('a'))
    vi.advanceTimersByTime(100)
    expect(batches).toHaveLength(1)
    // When a file arrives at t=150
    vi.advanceTimersByTime(50)
    batcher.add(file('b'))
    vi.advanceTimersByTime(99)
    expect(batches).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(ids(batches[1])).toEqual(['b'])
  })

  it('restarts the linger window for the file that opened a batch after a max-bytes flush', () => {
    const { batcher, batches } = setup({ lingerMs: 100, maxBytes: ENVELOPE_BYTES + 150 })
    batcher.add(file('a', { bytes: 100 }))
    vi.advanceTimersByTime(80)
    batcher.add(file('b', { bytes: 100 })) // closes [a], opens [b] at t=80
    expect(batches.map((b) => b.closedBy)).toEqual(['max-bytes'])
    vi.advanceTimersByTime(99) // t=179
    expect(batches).toHaveLength(1)
    vi.advanceTimersByTime(1) // t=180
    expect(batches[1]?.closedBy).toBe('linger')
    expect(ids(batches[1])).toEqual(['b'])
  })
})

describe('one systemName per batch', () => {
  it('splits two interleaved systemNames into two batches, each with only its own files', () => {
    // Given two systemNames interleaved
    const { batcher, batches } = setup({ maxFiles: 3 })
    batcher.add(file('a1', { systemName: 'A' }))
    batcher.add(file('b1', { systemName: 'B' }))
    batcher.add(file('a2', { systemName: 'A' }))
    batcher.add(file('b2', { systemName: 'B' }))
    batcher.add(file('a3', { systemName: 'A' }))
    // Then A's batch closes at 3 files with only A's files
    expect(batches).toHaveLength(1)
    expect(batches[0]?.systemName).toBe('A')
    expect(ids(batches[0])).toEqual(['a1', 'a2', 'a3'])
    expect(batcher.buffered).toBe(2)
    // and B's batch holds only B's files
    batcher.drain()
    expect(batches[1]?.systemName).toBe('B')
    expect(ids(batches[1])).toEqual(['b1', 'b2'])
    for (const b of batches) expect(b.files.every((f) => f.event.systemName === b.systemName)).toBe(true)
  })

  it('arms one linger timer per open systemName', () => {
    const { batcher, batches } = setup({ lingerMs: 100 })
    batcher.add(file('a', { systemName: 'A' }))
    vi.advanceTimersByTime(50)
    batcher.add(file('b', { systemName: 'B' }))
    expect(vi.getTimerCount()).toBe(2)
    vi.advanceTimersByTime(50)
    expect(batches.map((b) => b.systemName)).toEqual(['A'])
    vi.advanceTimersByTime(50)
    expect(batches.map((b) => b.systemName)).toEqual(['A', 'B'])
  })

  it('counts bytes per systemName', () => {
    const { batcher, batches } = setup({ maxBytes: ENVELOPE_BYTES + 150 })
    batcher.add(file('a', { systemName: 'A', bytes: 100 }))
    batcher.add(file('b', { systemName: 'B', bytes: 100 }))
    expect(batches).toHaveLength(0)
  })
})

describe('order, drain and ids', () => {
  it('keeps arrival order within a batch', () => {
    const { batcher, batches } = setup({ maxFiles: 100 })
    const names = Array.from({ length: 50 }, (_, i) => `f${i}`)
    for (const n of names) batcher.add(file(n))
    batcher.drain()
    expect(ids(batches[0])).toEqual(names)
    expect(batches[0]?.files.map((f) => Number(f.position.offset))).toEqual(names.map((_, i) => i))
  })

  it('drain() closes every open batch with reason drain and clears the timers', () => {
    const { batcher, batches } = setup({ lingerMs: 1000 })
    batcher.add(file('a', { systemName: 'A' }))
    batcher.add(file('b', { systemName: 'B' }))
    batcher.drain()
    expect(batches.map((b) => [b.systemName, b.closedBy])).toEqual([
      ['A', 'drain'],
      ['B', 'drain'],
    ])
    expect(batcher.buffered).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(5000)
    expect(batches).toHaveLength(2)
  })

  it('drain() with nothing buffered emits nothing', () => {
    const { batcher, batches } = setup()
    batcher.drain()
    expect(batches).toHaveLength(0)
  })

  it('gives every batch a distinct id', () => {
    const { batcher, batches } = setup({ maxFiles: 1 })
    for (let i = 0; i < 5; i++) batcher.add(file(`f${i}`))
    expect(new Set(batches.map((b) => b.id)).size).toBe(5)
  })
})

describe('buffered', () => {
  it('counts files in open batches across systemNames', () => {
    const { batcher } = setup({ maxFiles: 3 })
    expect(batcher.buffered).toBe(0)
    batcher.add(file('a', { systemName: 'A' }))
    batcher.add(file('b', { systemName: 'B' }))
    batcher.add(file('c', { systemName: 'A' }))
    expect(batcher.buffered).toBe(3)
    batcher.add(file('d', { systemName: 'A' })) // A closes with 3
    expect(batcher.buffered).toBe(1)
  })
})

describe('dropPartitions', () => {
  it('returns the dropped files of several batches in order', () => {
    const { batcher } = setup()
    batcher.add(file('a1', { systemName: 'A', partition: 1 }))
    batcher.add(file('a0', { systemName: 'A', partition: 0 }))
    batcher.add(file('a2', { systemName: 'A', partition: 1 }))
    batcher.add(file('b1', { systemName: 'B', partition: 1 }))
    const dropped = batcher.dropPartitions((p) => p.partition === 0)
    expect(dropped.map((f) => f.event.externalId)).toEqual(['a1', 'a2', 'b1'])
    expect(batcher.buffered).toBe(1)
  })

  it('drops files of partitions no longer owned and keeps the rest in order', () => {
    // Given files of partitions 0 and 1 in one batch
    const { batcher, batches } = setup()
    batcher.add(file('p0a', { partition: 0, bytes: 100 }))
    batcher.add(file('p1a', { partition: 1, bytes: 200 }))
    batcher.add(file('p0b', { partition: 0, bytes: 100 }))
    // When partition 1 is revoked
    const dropped = batcher.dropPartitions((p) => p.partition === 0)
    // Then the file of partition 1 is returned as dropped, the count and bytes follow
    expect(dropped.map((f) => f.event.externalId)).toEqual(['p1a'])
    expect(batcher.buffered).toBe(2)
    batcher.drain()
    expect(ids(batches[0])).toEqual(['p0a', 'p0b'])
    expect(batches[0]?.bytes).toBe(ENVELOPE_BYTES + 200)
  })

  it('removes a batch emptied by the drop, with its timer', () => {
    const { batcher, batches } = setup({ lingerMs: 100 })
    batcher.add(file('a', { systemName: 'A', partition: 1 }))
    batcher.add(file('b', { systemName: 'B', partition: 0 }))
    expect(vi.getTimerCount()).toBe(2)
    expect(batcher.dropPartitions((p) => p.partition === 0).map((f) => f.event.externalId)).toEqual(['a'])
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(100)
    expect(batches.map((b) => b.systemName)).toEqual(['B'])
  })

  it('distinguishes topics', () => {
    const { batcher } = setup()
    batcher.add(file('x', { topic: 't1', partition: 0 }))
    batcher.add(file('y', { topic: 't2', partition: 0 }))
    expect(batcher.dropPartitions((p) => p.topic === 't1').map((f) => f.event.externalId)).toEqual(['y'])
    expect(batcher.buffered).toBe(1)
  })

  it('recomputes bytes so later files use the freed room', () => {
    const { batcher, batches } = setup({ maxBytes: ENVELOPE_BYTES + 250 })
    batcher.add(file('keep', { partition: 0, bytes: 100 }))
    batcher.add(file('drop', { partition: 1, bytes: 100 }))
    batcher.dropPartitions((p) => p.partition === 0)
    // 100 + 100 fits after the drop; it would not have before (300 > 250)
    batcher.add(file('next', { partition: 0, bytes: 100 }))
    expect(batches).toHaveLength(0)
    batcher.drain()
    expect(ids(batches[0])).toEqual(['keep', 'next'])
  })

  it('returns nothing when every partition is still owned', () => {
    const { batcher } = setup()
    batcher.add(file('a'))
    expect(batcher.dropPartitions(() => true)).toEqual([])
    expect(batcher.buffered).toBe(1)
  })
})

describe('import kinds', () => {
  it('batches files, images and videos of one systemName apart, each batch naming its kind', () => {
    const { batcher, batches } = setup()
    const as = (id: string, kind: 'file' | 'image' | 'video') => {
      const f = file(id)
      return { ...f, event: { ...f.event, kind } }
    }
    batcher.add(as('f1', 'file'))
    batcher.add(as('i1', 'image'))
    batcher.add(as('f2', 'file'))
    batcher.add(as('v1', 'video'))
    batcher.drain()
    expect(batches.map((b) => [b.kind, b.systemName, ids(b)])).toEqual([
      ['file', 'archive', ['f1', 'f2']],
      ['image', 'archive', ['i1']],
      ['video', 'archive', ['v1']],
    ])
  })
})

describe('batch spans', () => {
  it('while tracing, a closed batch carries its span: from its first file to its closing', async () => {
    // Given a batcher that makes spans
    const { tracing, named } = recordSpans()
    const batches: Batch[] = []
    const batcher = new Batcher(
      { maxFiles: 10, maxBytes: 100_000, lingerMs: 1000 },
      (b) => batches.push(b),
      undefined,
      tracing,
    )
    // When a file waits out the linger time
    const opened = Date.now()
    batcher.add(file('a'))
    await vi.advanceTimersByTimeAsync(1000)
    // Then the batch opened then, and its span runs from its opening to its closing
    expect(batches[0]?.openedAt).toBe(opened)
    const [span] = named('import batch')
    expect(batches[0]?.span).toEqual(span?.spanContext())
    expect(span?.attributes['livingdocs.import.batch.closed_by']).toBe('linger')
    expect(span?.duration).toEqual([1, 0])
  })

  it('without tracing, a batch has no span', () => {
    const { batcher, batches } = setup({ maxFiles: 1 })
    batcher.add(file('a'))
    expect(batches[0]?.span).toBeUndefined()
    expect(batches[0]?.openedAt).toBe(Date.now())
  })
})
