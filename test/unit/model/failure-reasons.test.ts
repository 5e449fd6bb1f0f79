// The closed set of FAILED reason classes: every reason the bridge gives, and Livingdocs' documented ones.
import { describe, expect, it } from 'vitest'
import {
  FAILURE_CLASSES,
  type FailureClass,
  failureClass,
  isFailureNotOfTheFile,
  NO_RESULT_REASON,
} from '../../../src/model/failure-reasons.ts'

const CASES: Array<[string | null, FailureClass, boolean]> = [
  ['import job failed', 'job-failed', true],
  ['import job lost', 'job-lost', true],
  ['timeout', 'timeout', true],
  [NO_RESULT_REASON, 'no-result', true],
  ['rejected by the import API: submit answered HTTP 422: files.0.id: bad', 'rejected', false],
  [
    'file entry is 600000 bytes; an import request carries at most 448976 bytes of entries',
    'too-large',
    false,
  ],
  ['Could not upload file', 'upload', false],
  ['Could not upload file: HTTP 404', 'upload', false],
  ['Could not upload image: file size exceeds the maximum of 200 bytes', 'upload', false],
  ['Could not upload video', 'upload', false],
  ['Invalid metadata: title must be a string', 'metadata', false],
  ['Metadata validation failed. title: Please provide a title', 'metadata', false],
  ['metadata update rejected by the API: patch answered HTTP 400: Bad Request', 'metadata', false],
  ['conflict: the entry changed in Livingdocs at each of 4 tries; not overwritten', 'conflict', true],
  ['Invalid mediaType', 'media-type', false],
  ['Something Livingdocs never documented', 'other', false],
  ['timeout after 3 s', 'other', false],
  [null, 'other', false],
]

describe('failureClass', () => {
  it.each(CASES)('%s -> %s (not the file: %s)', (reason, cls, notOfTheFile) => {
    expect(failureClass(reason)).toBe(cls)
    expect(isFailureNotOfTheFile(reason)).toBe(notOfTheFile)
  })

  it('names only classes of the closed set, and every class has a case', () => {
    const seen = new Set(CASES.map(([reason]) => failureClass(reason)))
    expect([...seen].sort()).toEqual([...FAILURE_CLASSES].sort())
  })
})
