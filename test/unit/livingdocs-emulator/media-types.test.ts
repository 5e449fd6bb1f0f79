// The project config's mediaTypes in their real shape and metadata errors in the server's shape ([MT] [M] §7, §10).
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type {
  LivingdocsEmulatorOptions,
  MediaTypeConfig,
  RunningLivingdocsEmulator,
} from '../../support/livingdocs-emulator/index.ts'
import {
  createLivingdocsEmulator,
  defaultMediaTypes,
  startLivingdocsEmulator,
} from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry, startFileServer } from './helpers.ts'
import { pdf } from './samples.ts'

let files: Awaited<ReturnType<typeof startFileServer>>
let url: string

beforeAll(async () => {
  files = await startFileServer()
  url = files.put('m.pdf', pdf())
})
afterAll(() => files.close())

/** Starts an emulator with `options`, imports `entries` as files and returns the items by externalId. */
const importFiles = async (options: LivingdocsEmulatorOptions, entries: ReturnType<typeof fileEntry>[]) => {
  const emu: RunningLivingdocsEmulator = await startLivingdocsEmulator(options)
  onTestFinished(() => emu.close())
  const api = apiClient(emu)
  const done = await api.waitFinished(await api.start({ systemName: 'arc', files: entries }))
  const items = done.files as { externalId: string; state: string; reason?: string }[]
  return { emu, byId: Object.fromEntries(items.map((i) => [i.externalId, i])) }
}

const CONFIG: MediaTypeConfig[] = [
  {
    handle: 'file',
    type: 'mediaFile',
    metadata: [
      {
        handle: 'title',
        type: 'li-text',
        config: { required: true, requiredErrorMessage: 'Please provide a title', maxLength: 20 },
      },
      { handle: 'year', type: 'li-integer' },
      { handle: 'public', type: 'li-boolean' },
      { handle: 'tags', type: 'li-string-list' },
      {
        handle: 'desk',
        type: 'li-enum',
        config: { dataProvider: { type: 'labelValuePair', items: [{ value: 'news' }, { value: 'sport' }] } },
      },
      { handle: 'validFrom', plugin: 'li-datetime' },
      { handle: 'source', type: 'li-text', config: { required: true } },
    ],
  },
  { handle: 'report', type: 'mediaFile', strict: true, metadata: [{ handle: 'title', type: 'li-text' }] },
  { handle: 'image', type: 'mediaImage' },
]

describe('the default project config [MT] §10', () => {
  it('has file, image and video with title, caption, source, description (li-text, none required)', () => {
    expect(defaultMediaTypes().map((m) => [m.handle, m.type, m.metadata?.map((p) => p.handle)])).toEqual([
      ['image', 'mediaImage', ['title', 'caption', 'source', 'description']],
      ['video', 'mediaVideo', ['title', 'caption', 'source', 'description']],
      ['file', 'mediaFile', ['title', 'caption', 'source', 'description']],
    ])
  })

  it('accepts empty and undeclared metadata, and fails a declared li-text that is not a string', async () => {
    const { byId } = await importFiles({}, [
      fileEntry('empty', url, { metadata: {} }),
      fileEntry('extra', url, { metadata: { title: 't', author: 'someone', shelf: { row: 3 } } }),
      fileEntry('object', url, { metadata: { source: { system: 'legacy' } } }),
    ])
    expect(byId.empty?.state).toBe('imported')
    expect(byId.extra?.state).toBe('imported')
    expect(byId.object).toMatchObject({
      state: 'failed',
      reason: "Metadata validation failed. source: The value of '/source' must be string",
    })
  })
})

describe('a configured project: array form [MT] §7', () => {
  it('renders each broken property from the ValidationError shape, using requiredErrorMessage', async () => {
    const { byId, emu } = await importFiles({ mediaTypes: CONFIG }, [
      fileEntry('ok', url, {
        metadata: {
          title: 'Fine',
          source: 'archive',
          year: 2024,
          public: true,
          tags: ['a'],
          desk: 'news',
          validFrom: '2024-05-01T10:00:00Z',
        },
      }),
      fileEntry('missing', url, { metadata: { title: '' } }),
      fileEntry('wrong', url, {
        metadata: {
          title: 'x'.repeat(21),
          source: 's',
          year: 20.5,
          public: 'yes',
          tags: [1],
          desk: 'weather',
          validFrom: 'May 1st',
        },
      }),
      fileEntry('strict', url, { mediaType: 'report', metadata: { title: 't', extra: 1 } }),
    ])
    expect(byId.ok?.state).toBe('imported')
    expect(emu.getMedia('arc', 'ok')?.mediaType).toBe('file')
    expect(byId.missing).toMatchObject({
      state: 'failed',
      reason:
        "Metadata validation failed. title: Please provide a title; source: The value of '/source' is required",
    })
    expect(byId.wrong?.reason).toBe(
      [
        "Metadata validation failed. title: The value of '/title' must NOT have more than 20 characters",
        "year: The value of '/year' must be integer",
        "public: The value of '/public' must be boolean",
        "tags: The value of '/tags' must be array of string",
        "desk: The value of '/desk' must be equal to one of the allowed values",
        'validFrom: The value of \'/validFrom\' must match format "date-time"',
      ].join('; '),
    )
    expect(byId.strict?.reason).toBe(
      "Metadata validation failed. extra: The value of '/extra' is not declared by the mediaType",
    )
    expect(emu.getMedia('arc', 'missing')).toBeUndefined()
  })

  it('fails an unknown handle and a handle of another type on the file import', async () => {
    const { byId } = await importFiles({ mediaTypes: CONFIG }, [
      fileEntry('unknown', url, { mediaType: 'podcast', metadata: { title: 't', source: 's' } }),
      fileEntry('image', url, { mediaType: 'image', metadata: { title: 't', source: 's' } }),
    ])
    expect(byId.unknown).toMatchObject({
      state: 'failed',
      reason: 'Invalid mediaType: "podcast" is not configured',
    })
    expect(byId.image).toMatchObject({
      state: 'failed',
      reason: 'Invalid mediaType: "image" is not a mediaFile',
    })
  })

  it('refuses an invalid config at construction', () => {
    expect(() => createLivingdocsEmulator({ mediaTypes: [{ handle: 'doc', type: 'mediaFile' }] })).toThrow(
      /one mediaFile must have the handle "file"/,
    )
    const twice: MediaTypeConfig[] = [
      { handle: 'file', type: 'mediaFile' },
      { handle: 'file', type: 'mediaImage' },
    ]
    expect(() => createLivingdocsEmulator({ mediaTypes: twice })).toThrow(/handle "file" twice/)
  })
})

describe("the emulator's older record form", () => {
  it('is converted: required and maxLength on li-text, number as li-integer, strict kept', async () => {
    const { byId } = await importFiles(
      {
        mediaTypes: {
          file: { type: 'mediaFile', metadata: { title: { required: true, maxLength: 5 } } },
          report: { metadata: { year: { type: 'number' } }, strict: true },
        },
      },
      [
        fileEntry('ok', url, { metadata: { title: 'Short' } }),
        fileEntry('long', url, { metadata: { title: 'Longer' } }),
        fileEntry('year', url, { mediaType: 'report', metadata: { year: '2024', other: 1 } }),
      ],
    )
    expect(byId.ok?.state).toBe('imported')
    expect(byId.long?.reason).toBe(
      "Metadata validation failed. title: The value of '/title' must NOT have more than 5 characters",
    )
    expect(byId.year?.reason).toBe(
      "Metadata validation failed. year: The value of '/year' must be integer; other: The value of '/other' is not declared by the mediaType",
    )
  })
})
