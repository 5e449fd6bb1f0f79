import type { SampleFile } from './sample-files.ts'

/** One line of a legacy export file (NDJSON): the fields of a file-created event. */
export interface ExportRecord {
  externalId: string
  url: string
  fileName: string
  mediaType?: string
  metadata?: Record<string, unknown>
  systemName?: string
  /** ISO 8601. */
  occurredAt: string
}

/** What a record of a sample export is expected to come back as. */
export type Expected = 'SUCCESS' | 'SKIPPED' | 'FAILED'

/**
 * Builds a legacy export over `files` served at `baseUrl`: one record per file (SUCCESS), then
 * `broken` records whose URL answers 404 or cannot be reached (FAILED), then `repeats` records that
 * repeat an earlier id with the same URL (SKIPPED, "already exists", once the first is imported).
 *
 * @returns the records in order and the expected state per line index
 */
export function buildSampleExport(options: {
  files: SampleFile[]
  baseUrl: string
  systemName: string
  idPrefix: string
  broken: number
  repeats: number
  unreachableUrl?: string
}): { records: ExportRecord[]; expected: Expected[] } {
  const records: ExportRecord[] = []
  const expected: Expected[] = []
  const at = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()
  options.files.forEach((file, i) => {
    records.push({
      externalId: `${options.idPrefix}-${file.name}`,
      url: `${options.baseUrl}/${file.name}`,
      fileName: file.name.replace(/\.\w+$/, '').replace(/-/g, ' '),
      mediaType: 'file',
      metadata: { title: `Legacy ${file.name}`, description: `${file.contentType}, ${file.bytes} bytes` },
      systemName: options.systemName,
      occurredAt: at(i),
    })
    expected.push('SUCCESS')
  })
  for (let i = 0; i < options.broken; i++) {
    const url =
      i % 2 === 0 || options.unreachableUrl === undefined
        ? `${options.baseUrl}/missing-${i}.pdf`
        : `${options.unreachableUrl}/gone-${i}.pdf`
    records.push({
      externalId: `${options.idPrefix}-broken-${i}`,
      url,
      fileName: `broken ${i}`,
      metadata: { title: `Broken ${i}` },
      systemName: options.systemName,
      occurredAt: at(options.files.length + i),
    })
    expected.push('FAILED')
  }
  for (let i = 0; i < options.repeats && i < options.files.length; i++) {
    const original = records[i] as ExportRecord
    records.push({ ...original, occurredAt: at(options.files.length + options.broken + i) })
    expected.push('SKIPPED')
  }
  return { records, expected }
}
