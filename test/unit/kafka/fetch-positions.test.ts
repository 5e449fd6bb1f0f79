// Where the consumer expects to fetch next per partition, and the resets kafkajs makes after
// OffsetOutOfRange: which are losses (records deleted before they were read) and which are not.
import { describe, expect, it } from 'vitest'
import { FetchPositions } from '../../../src/kafka/fetch-positions.ts'

describe('FetchPositions', () => {
  it('reports a reset from the committed offset of a newly assigned partition, with the records skipped', () => {
    // Given partition 0 newly assigned with committed offset 100
    const positions = new FetchPositions()
    expect(positions.retain([0])).toEqual([0])
    positions.committed(0, 100n)
    // When its first fetch starts at 250 (the log start after retention)
    // Then 150 records were skipped from the committed position
    expect(positions.fetched(0, 250n)).toEqual({
      partition: 0,
      from: 100n,
      to: 250n,
      skipped: 150n,
      position: 'committed',
    })
    // And the next fetch, where the last one ended, is no reset
    positions.advance(0, 300n)
    expect(positions.fetched(0, 300n)).toBeNull()
  })

  it('reports a reset of its own fetch position while reading (the bridge was held), not a rejoin', () => {
    const positions = new FetchPositions()
    positions.retain([1])
    positions.committed(1, 10n)
    expect(positions.fetched(1, 10n)).toBeNull()
    positions.advance(1, 40n)
    // When a rejoin fetches the kept partition again from the committed offset 30: records in hand
    expect(positions.fetched(1, 30n)).toBeNull()
    positions.advance(1, 40n)
    // When the position 40 was out of range and the consumer reset it to 90
    expect(positions.fetched(1, 90n)).toMatchObject({
      from: 40n,
      to: 90n,
      skipped: 90n - 40n,
      position: 'fetch',
    })
  })

  it('reports a committed offset beyond the log end reset backwards as read again, skipping nothing', () => {
    const positions = new FetchPositions()
    positions.retain([0])
    positions.committed(0, 500n)
    expect(positions.fetched(0, 0n)).toMatchObject({ from: 500n, to: 0n, skipped: 0n, position: 'committed' })
  })

  it('knows nothing of a partition without a commit, and forgets revoked partitions', () => {
    const positions = new FetchPositions()
    positions.retain([0, 1])
    positions.committed(0, null)
    expect(positions.fetched(0, 7n)).toBeNull()
    positions.committed(1, 5n)
    // When partition 1 is revoked and assigned again later, it is new: its old position no longer counts
    expect(positions.retain([0])).toEqual([])
    expect(positions.retain([0, 1])).toEqual([1])
    expect(positions.fetched(1, 900n)).toBeNull()
  })

  it('keeps probed partitions listed until their read is over, and ignores a read of an earlier join', async () => {
    const positions = new FetchPositions()
    positions.retain([0, 1])
    let answer: (m: Map<number, bigint | null>) => void = () => undefined
    const done: string[] = []
    positions.probe([0, 1], () => new Promise((resolve) => (answer = resolve)), {
      onDone: () => done.push('done'),
      onFailed: () => done.push('failed'),
    })
    expect(positions.probing).toEqual([0, 1])
    expect(positions.isProbing(1)).toBe(true)
    answer(new Map([[0, 42n]]))
    await new Promise((r) => setTimeout(r, 0))
    expect(done).toEqual(['done'])
    expect(positions.probing).toEqual([])
    expect(positions.fetched(0, 50n)).toMatchObject({ from: 42n, skipped: 8n })

    // Given a read that answers after the next join
    positions.retain([2])
    positions.probe([2], () => new Promise((resolve) => (answer = resolve)), {
      onDone: () => done.push('late'),
      onFailed: () => done.push('late failed'),
    })
    positions.retain([2])
    answer(new Map([[2, 1n]]))
    await new Promise((r) => setTimeout(r, 0))
    // Then it changes nothing
    expect(done).toEqual(['done'])
    expect(positions.fetched(2, 100n)).toBeNull()
  })
})
