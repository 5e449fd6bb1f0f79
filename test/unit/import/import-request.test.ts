// The import request's body bytes: the envelope, then the entries spliced in as they were serialised.
import { describe, expect, it } from 'vitest'
import { type ImportRequest, importRequestBody } from '../../../src/import/import-request.ts'

const entry = (id: string, fileName: string) =>
  JSON.stringify({ id, url: `https://files.example/${id}`, fileName, mediaType: 'file', metadata: {} })

describe('importRequestBody', () => {
  it('is the JSON of the request, byte for byte, with multi-byte text in entries and envelope', () => {
    const request: ImportRequest = {
      kind: 'file',
      systemName: 'système-ü',
      files: [
        entry('a', 'Bücher.pdf'),
        entry('b', 'emoji 😀.png'),
        // the decoder's form: the entry's UTF-8 bytes
        Buffer.from(entry('d', 'Ärger.pdf')),
        {
          id: 'c',
          url: 'https://files.example/c',
          fileName: 'Ωmega',
          mediaType: 'file',
          metadata: { k: 'ß' },
        },
      ],
      webhook: 'https://bridge.example/webhooks/import/x?sig=1',
      context: { source: 'file-import-bridge', batchId: 'x' },
    }
    const body = importRequestBody(request)
    const expected = JSON.stringify({
      systemName: request.systemName,
      webhook: request.webhook,
      context: request.context,
      files: request.files.map((f) =>
        typeof f === 'string' || Buffer.isBuffer(f) ? JSON.parse(f.toString()) : f,
      ),
    })
    // The whole buffer is the body: no byte left over from its allocation.
    expect(body.toString('utf8')).toBe(expected)
    expect(body.length).toBe(Buffer.byteLength(expected))
  })

  it('puts the entries under the key of the import kind, and writes an empty list as []', () => {
    const images = JSON.parse(
      importRequestBody({ kind: 'image', systemName: 's', files: [entry('i', 'i.png')] }).toString(),
    )
    expect(Object.keys(images)).toEqual(['systemName', 'images'])
    expect(images.images[0].id).toBe('i')
    const none = importRequestBody({ kind: 'video', systemName: 's', files: [] })
    expect(none.toString('utf8')).toBe('{"systemName":"s","videos":[]}')
  })
})
