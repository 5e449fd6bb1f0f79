// The files[] entry of an import request: its shape, its JSON, and its size in bytes.
import { describe, expect, it } from 'vitest'
import { fileEntryBytes, toFileEntry } from '../../../src/import/file-entry.ts'
import { pendingFile } from '../../support/pending-file.ts'

/** A valid event whose mediaType is a handle of its own (so its entry names it). */
const validEvent = { ...pendingFile('ext-1', { metadata: { title: 'A' } }).event, mediaType: 'report' }

describe('toFileEntry and fileEntryBytes', () => {
  it('maps an event to the files[] entry shape', () => {
    expect(toFileEntry(validEvent)).toEqual({
      id: 'ext-1',
      url: 'https://files.example/ext-1',
      fileName: 'ext-1.pdf',
      mediaType: 'report',
      metadata: { title: 'A' },
    })
    expect(Object.keys(toFileEntry(validEvent)).sort()).toEqual([
      'fileName',
      'id',
      'mediaType',
      'metadata',
      'url',
    ])
  })

  it('counts UTF-8 bytes of the JSON plus one separator, with multi-byte characters', () => {
    // Given a name with 2-, 3- and 4-byte characters
    const e = { ...validEvent, fileName: 'äöü-日本-😀.pdf', metadata: { title: 'Grüße' } }
    const text = JSON.stringify(toFileEntry(e))
    // Then the count is bytes, not UTF-16 code units
    expect(fileEntryBytes(e)).toBe(Buffer.byteLength(text, 'utf8') + 1)
    expect(fileEntryBytes(e)).toBeGreaterThan(text.length + 1)
    // extra bytes over UTF-16 units: ä ö ü +1 each, 日 本 +2 each, 😀 (4 bytes, 2 units) +2, ü ß +1 each
    expect(fileEntryBytes(e) - (text.length + 1)).toBe(3 + 4 + 2 + 2)
  })
})
