// diffMetadata: the setMetadataProperty operations that make an entry's metadata the event's, as a table.
import { describe, expect, it } from 'vitest'
import { diffMetadata } from '../../../src/jobs/metadata-diff.ts'

const set = (propertyName: string, value: unknown) => ({
  operation: 'setMetadataProperty',
  propertyName,
  value,
})

describe('diffMetadata', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, unknown[]]>([
    ['equal metadata: no operation', { title: 'A', year: 2020 }, { title: 'A', year: 2020 }, []],
    [
      'equal nested values in another key order: no operation',
      { tags: { a: 1, b: [1, 2] } },
      { tags: { b: [1, 2], a: 1 } },
      [],
    ],
    ['a changed value is set', { title: 'A' }, { title: 'B' }, [set('title', 'B')]],
    ['a new property is set', { title: 'A' }, { title: 'A', caption: 'C' }, [set('caption', 'C')]],
    ['a changed type is set (1 is not "1")', { year: '2020' }, { year: 2020 }, [set('year', 2020)]],
    [
      'null in the event removes a property the entry has',
      { caption: 'C' },
      { caption: null },
      [set('caption', null)],
    ],
    ['null in the event for a property the entry lacks: nothing', {}, { caption: null }, []],
    [
      'a property only the entry has (an editor’s) is left alone',
      { title: 'A', note: 'editor' },
      { title: 'A' },
      [],
    ],
    [
      'several changes go in the event’s order',
      { a: 1, b: 2 },
      { b: 3, c: 4, a: 1 },
      [set('b', 3), set('c', 4)],
    ],
  ])('%s', (_name, stored, wanted, patches) => {
    expect(diffMetadata(stored, wanted)).toEqual({ patches, contentChanged: false })
  })

  describe('with a checksum property', () => {
    const options = { checksumProperty: 'sourceChecksum' }

    it('the same checksum: unchanged, nothing to patch (a re-delivered event is a no-op)', () => {
      expect(
        diffMetadata(
          { title: 'A', sourceChecksum: 'sha256:1' },
          { title: 'A', sourceChecksum: 'sha256:1' },
          options,
        ),
      ).toEqual({
        patches: [],
        contentChanged: false,
      })
    })

    it('another checksum: the bytes changed; the checksum is never patched (only an import writes it)', () => {
      expect(
        diffMetadata(
          { title: 'A', sourceChecksum: 'sha256:1' },
          { title: 'B', sourceChecksum: 'sha256:2' },
          options,
        ),
      ).toEqual({
        patches: [set('title', 'B')],
        contentChanged: true,
      })
    })

    it('an entry without a checksum (imported before it was stored) tells nothing about the bytes', () => {
      expect(diffMetadata({ title: 'A' }, { title: 'A', sourceChecksum: 'sha256:2' }, options)).toEqual({
        patches: [],
        contentChanged: false,
      })
    })
  })
})
