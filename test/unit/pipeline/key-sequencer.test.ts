// The KeySequencer: one file per systemName + externalId in flight, later ones parked in order.
import { beforeEach, describe, expect, it } from 'vitest'
import type { PendingFile } from '../../../src/model/files.ts'
import { KeySequencer } from '../../../src/pipeline/key-sequencer.ts'
import { pendingFile, resetPendingFileOffsets } from '../../support/pending-file.ts'

const file = pendingFile

function setup() {
  const released: PendingFile[] = []
  const sequencer = new KeySequencer((f) => released.push(f))
  return { sequencer, released }
}

beforeEach(() => {
  resetPendingFileOffsets()
})

describe('KeySequencer', () => {
  it('passes files of different keys on at once', () => {
    // Given a sequencer
    const { sequencer, released } = setup()
    const a = file('a')
    const b = file('b')

    // When files of two keys are admitted
    sequencer.admit(a)
    sequencer.admit(b)

    // Then both are released in order and nothing is parked
    expect(released).toEqual([a, b])
    expect(sequencer.parked).toBe(0)
  })

  it('parks a second file of the same key until the first is done', () => {
    // Given a file of key a in flight
    const { sequencer, released } = setup()
    const first = file('a')
    const second = file('a')
    sequencer.admit(first)

    // When another file of key a arrives
    sequencer.admit(second)

    // Then it is parked
    expect(released).toEqual([first])
    expect(sequencer.parked).toBe(1)

    // When the first is done
    sequencer.done(first)

    // Then the second is released
    expect(released).toEqual([first, second])
    expect(sequencer.parked).toBe(0)
  })

  it('keeps the order of three files of one key', () => {
    // Given three files of key a admitted one after another
    const { sequencer, released } = setup()
    const [f1, f2, f3] = [file('a'), file('a'), file('a')] as [PendingFile, PendingFile, PendingFile]
    sequencer.admit(f1)
    sequencer.admit(f2)
    sequencer.admit(f3)
    expect(released).toEqual([f1])
    expect(sequencer.parked).toBe(2)

    // When each released file is done in turn
    sequencer.done(f1)
    expect(released).toEqual([f1, f2])
    expect(sequencer.parked).toBe(1)
    sequencer.done(f2)

    // Then they came out in admission order
    expect(released).toEqual([f1, f2, f3])
    expect(sequencer.parked).toBe(0)
  })

  it('releases a file of a key at once after its predecessor is done and nothing was parked', () => {
    // Given a key whose only file is done
    const { sequencer, released } = setup()
    const first = file('a')
    sequencer.admit(first)
    sequencer.done(first)

    // When a new file of that key arrives
    const later = file('a')
    sequencer.admit(later)

    // Then it passes at once
    expect(released).toEqual([first, later])
    expect(sequencer.parked).toBe(0)
  })

  it('treats the same externalId under another systemName as a different key', () => {
    // Given a file a of system archive in flight
    const { sequencer, released } = setup()
    const archive = file('a', { systemName: 'archive' })
    const photos = file('a', { systemName: 'photos' })
    sequencer.admit(archive)

    // When a file a of system photos arrives
    sequencer.admit(photos)

    // Then it passes at once
    expect(released).toEqual([archive, photos])
    expect(sequencer.parked).toBe(0)
  })

  it('does not mix up keys whose parts would join to the same string', () => {
    // Given keys ('ab', 'c') and ('a', 'bc')
    const { sequencer, released } = setup()
    const x = file('c', { systemName: 'ab' })
    const y = file('bc', { systemName: 'a' })

    // When both are admitted
    sequencer.admit(x)
    sequencer.admit(y)

    // Then both pass
    expect(released).toEqual([x, y])
  })

  it('releases parked files of one key only when that key is done', () => {
    // Given files of keys a and b in flight with a parked file each
    const { sequencer, released } = setup()
    const a1 = file('a')
    const b1 = file('b')
    const a2 = file('a')
    const b2 = file('b')
    for (const f of [a1, b1, a2, b2]) sequencer.admit(f)
    expect(sequencer.parked).toBe(2)

    // When b1 is done
    sequencer.done(b1)

    // Then only b2 is released
    expect(released).toEqual([a1, b1, b2])
    expect(sequencer.parked).toBe(1)
  })

  it('dropPartitions drops parked files of revoked partitions only', () => {
    // Given parked files on partitions 0 and 1
    const { sequencer, released } = setup()
    const a0 = file('a', { partition: 0 })
    const a1 = file('a', { partition: 1 })
    const a0b = file('a', { partition: 0 })
    const b1 = file('b', { partition: 1 })
    const b1b = file('b', { partition: 1 })
    for (const f of [a0, a1, a0b, b1, b1b]) sequencer.admit(f)
    expect(released).toEqual([a0, b1])
    expect(sequencer.parked).toBe(3)

    // When partition 1 is revoked
    const dropped = sequencer.dropPartitions((p) => p.partition !== 1)

    // Then the two parked files of partition 1 are dropped, the one of partition 0 is kept
    expect(dropped).toEqual([a1, b1b])
    expect(sequencer.parked).toBe(1)

    // And the kept one is released when its predecessor is done
    sequencer.done(a0)
    expect(released).toEqual([a0, b1, a0b])
    expect(sequencer.parked).toBe(0)

    // And key b has nothing parked any more: its next file waits only for b1
    sequencer.done(b1)
    expect(released).toEqual([a0, b1, a0b])
    const b2 = file('b', { partition: 0 })
    sequencer.admit(b2)
    expect(released).toEqual([a0, b1, a0b, b2])
  })

  it('dropPartitions compares topics as well as partitions', () => {
    // Given parked files of partition 0 of two topics
    const { sequencer } = setup()
    for (const topic of ['t1', 't2']) {
      sequencer.admit(file(`k-${topic}`, { topic }))
      sequencer.admit(file(`k-${topic}`, { topic }))
    }
    expect(sequencer.parked).toBe(2)

    // When partition 0 of t2 is revoked
    const dropped = sequencer.dropPartitions((p) => p.topic !== 't2')

    // Then only the t2 file is dropped
    expect(dropped.map((f) => f.position.topic)).toEqual(['t2'])
    expect(sequencer.parked).toBe(1)
  })

  it('dropPartitions drops nothing when every partition is still owned', () => {
    // Given one parked file
    const { sequencer } = setup()
    sequencer.admit(file('a'))
    sequencer.admit(file('a'))

    // When every partition is owned
    // Then nothing is dropped
    expect(sequencer.dropPartitions(() => true)).toEqual([])
    expect(sequencer.parked).toBe(1)
  })
})
