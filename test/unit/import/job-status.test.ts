// The status answer's fast path (quickStatus) against the zod schema it stands in for (schemaStatus):
// whatever it accepts, the schema accepts with the same job status; and it accepts the common answers of
// every import kind, so that they skip zod.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { quickStatus, schemaStatus } from '../../../src/import/job-status.ts'
import type { MediaKind } from '../../../src/model/files.ts'

const KINDS: MediaKind[] = ['file', 'image', 'video']
/** Values of the wrong type for every field, among the right ones. */
const odd = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.string({ maxLength: 3 }),
)
const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: valid }, odd)
const itemState = fc.constantFrom('imported', 'IMPORTED', 'success', 'skipped', 'failed', 'weird', '')
const item = fc.record(
  {
    externalId: field(fc.oneof(fc.string({ maxLength: 4 }), fc.integer())),
    state: field(itemState),
    status: field(itemState),
    systemName: field(fc.string({ maxLength: 3 })),
    mediaId: field(fc.string({ maxLength: 3 })),
    reason: field(fc.string({ maxLength: 3 })),
    image: field(fc.record({ mediaId: field(fc.string({ maxLength: 3 })) }, { requiredKeys: [] })),
    video: field(fc.record({ mediaId: field(fc.string({ maxLength: 3 })) }, { requiredKeys: [] })),
  },
  { requiredKeys: ['externalId'] },
)
const items = fc.oneof({ weight: 5, arbitrary: fc.array(field(item), { maxLength: 3 }) }, odd)
const body = fc.record(
  {
    finished: field(fc.boolean()),
    state: field(fc.constantFrom('success', 'failed', 'started', 'lost', 'other')),
    id: field(fc.oneof(fc.string({ maxLength: 4 }), fc.integer())),
    startedAt: field(fc.string({ maxLength: 4 })),
    files: items,
    images: items,
    videos: items,
    extra: fc.string({ maxLength: 2 }),
  },
  { requiredKeys: ['finished', 'state'] },
)
const anyBody = fc.oneof({ weight: 9, arbitrary: body }, odd)

describe('quickStatus', () => {
  it('accepts nothing the schema refuses, and gives what the schema gives, for every import kind', () => {
    const accepted: Record<string, number> = { file: 0, image: 0, video: 0 }
    fc.assert(
      fc.property(anyBody, fc.constantFrom(...KINDS), (b, kind) => {
        const quick = quickStatus(b, kind)
        if (quick === undefined) return
        accepted[kind] = (accepted[kind] ?? 0) + 1
        expect(quick).toEqual(schemaStatus(b, kind))
      }),
      { numRuns: 20_000 },
    )
    // and the property saw accepted answers of each kind, not only refusals
    for (const kind of KINDS) expect(accepted[kind]).toBeGreaterThan(200)
  })

  it('accepts the documented answers of the three imports and the older per-file key', () => {
    const file = {
      id: 'job-1',
      finished: true,
      state: 'success',
      files: [
        { externalId: 'a', systemName: 'dam', state: 'imported', mediaId: 'm1' },
        { externalId: 7, status: 'success', mediaId: 'm2' },
        { externalId: 'b', state: 'skipped', mediaId: 'm3', reason: 'already exists' },
        { externalId: 'c', state: 'failed', reason: 'could not download' },
      ],
    }
    expect(quickStatus(file, 'file')).toEqual({
      finished: true,
      state: 'success',
      files: [
        { externalId: 'a', systemName: 'dam', state: 'imported', mediaId: 'm1', reason: undefined },
        { externalId: '7', systemName: undefined, state: 'imported', mediaId: 'm2', reason: undefined },
        { externalId: 'b', systemName: undefined, state: 'skipped', mediaId: 'm3', reason: 'already exists' },
        {
          externalId: 'c',
          systemName: undefined,
          state: 'failed',
          mediaId: undefined,
          reason: 'could not download',
        },
      ],
    })
    const image = {
      finished: true,
      state: 'success',
      images: [{ externalId: 'i', state: 'imported', image: { mediaId: 'mi' } }],
    }
    expect(quickStatus(image, 'image')).toEqual(schemaStatus(image, 'image'))
    expect(quickStatus(image, 'image')).toMatchObject({ files: [{ externalId: 'i', mediaId: 'mi' }] })
    const video = { finished: false, state: 'started', startedAt: '2026-12-01T05:00:00Z', videos: null }
    expect(quickStatus(video, 'video')).toEqual({
      finished: false,
      state: 'started',
      startedAt: '2026-12-01T05:00:00Z',
    })
  })

  it('leaves an answer with a field of the wrong type to the schema', () => {
    expect(quickStatus({ finished: 'yes', state: 'success' }, 'file')).toBeUndefined()
    expect(
      quickStatus({ finished: true, state: 'success', files: [{ state: 'imported' }] }, 'file'),
    ).toBeUndefined()
    expect(quickStatus({ finished: true, state: 'success', files: [], images: [] }, 'image')).toBeUndefined()
  })
})
