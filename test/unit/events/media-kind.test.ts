// resolveMediaKind: which Livingdocs import a file goes to, by mediaType handle, MIME type and URL extension.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type MediaKindOptions, resolveMediaKind } from '../../../src/events/media-kind.ts'
import { toRequestUrl } from '../../../src/events/url.ts'

const DEFAULTS: MediaKindOptions = {
  kindsByMediaType: { image: 'image', video: 'video' },
  detectFromFile: true,
}

describe('resolveMediaKind', () => {
  it.each([
    // mediaType, url, mimeType, expected kind, expected handle
    ['file', 'https://a.example/r/report.pdf', undefined, 'file', 'file'],
    ['image', 'https://a.example/r/anything', undefined, 'image', 'image'],
    ['video', 'https://a.example/r/clip.bin', undefined, 'video', 'video'],
    ['file', 'https://a.example/r/A-00077/orig.JPG', undefined, 'image', 'image'],
    ['file', 'https://a.example/r/logo.svg?sig=abc.pdf', undefined, 'image', 'image'],
    ['file', 'https://a.example/r/clip.mp4', undefined, 'video', 'video'],
    ['file', 'https://a.example/r/photo.webp', undefined, 'file', 'file'],
    ['file', 'https://a.example/r/photo.tiff', 'image/tiff', 'file', 'file'],
    ['file', 'https://a.example/r/download', 'image/jpeg', 'image', 'image'],
    ['file', 'https://a.example/r/download', 'Video/MP4; codecs="avc1"', 'video', 'video'],
    ['file', 'https://a.example/r/pic.png', 'application/pdf', 'file', 'file'],
    ['file', 'https://a.example/r/.png', undefined, 'file', 'file'],
    ['report', 'https://a.example/r/pic.png', undefined, 'file', 'report'],
    ['image', 'https://a.example/r/scan.pdf', 'application/pdf', 'image', 'image'],
  ])('mediaType %j, %s, MIME %j -> %s import with handle %s', (mediaType, url, mimeType, kind, handle) => {
    expect(resolveMediaKind({ mediaType, url, mimeType }, DEFAULTS)).toEqual({ kind, mediaType: handle })
  })

  it('routes the handles MEDIA_TYPE_KINDS names, and never detects for a handle other than file', () => {
    const options: MediaKindOptions = {
      kindsByMediaType: { photo: 'image', clip: 'video' },
      detectFromFile: true,
    }
    expect(resolveMediaKind({ mediaType: 'photo', url: 'https://a.example/x.pdf' }, options)).toEqual({
      kind: 'image',
      mediaType: 'photo',
    })
    expect(resolveMediaKind({ mediaType: 'clip', url: 'https://a.example/x' }, options).kind).toBe('video')
    // 'image' is not mapped in this configuration: a file like any other handle
    expect(resolveMediaKind({ mediaType: 'image', url: 'https://a.example/x.jpg' }, options).kind).toBe(
      'file',
    )
  })

  it('keeps every file of the handle file in the file import with MEDIA_KIND_DETECTION=false', () => {
    const options: MediaKindOptions = { ...DEFAULTS, detectFromFile: false }
    expect(
      resolveMediaKind(
        { mediaType: 'file', url: 'https://a.example/x.jpg', mimeType: 'image/jpeg' },
        options,
      ),
    ).toEqual({
      kind: 'file',
      mediaType: 'file',
    })
  })
})

describe('the extension of a request URL', () => {
  const kindOf = (url: string) => resolveMediaKind({ mediaType: 'file', url }, DEFAULTS).kind
  const segment = fc.oneof(
    fc.constantFrom(
      'a.jpg',
      'b.PNG',
      'c.mp4',
      '.',
      '..',
      '%2e%2E',
      '.%2e',
      'x.jpg;v=1',
      'd',
      '.png',
      'e.pdf',
    ),
    fc.stringMatching(/^[a-z.%2E]{0,6}$/),
  )
  const url = fc
    .tuple(fc.array(segment, { maxLength: 4 }), fc.constantFrom('', '?q=a.jpg', '#f.png', '/'))
    .map(([segments, tail]) => `https://h.example/${segments.join('/')}${tail}`)

  it('is what the WHATWG pathname says, dot segments included', () => {
    let checked = 0
    fc.assert(
      fc.property(url, (typed) => {
        const request = toRequestUrl(typed)
        if (!request.ok) return
        checked++
        // The same URL by its WHATWG pathname alone (dot segments resolved, no query or fragment)
        expect(kindOf(request.url)).toBe(kindOf(`https://h.example${new URL(request.url).pathname}`))
      }),
      { numRuns: 2000 },
    )
    // Most generated URLs are valid requests: the property was checked, not skipped
    expect(checked).toBeGreaterThan(1000)
  })
})
