import type { ExportRecord } from './sample-export.ts'

/**
 * `count` export records for a load test: ids `<prefix>-<i>`, URLs under a host that is never fetched
 * (for an emulator with `skipDownloads`), and metadata of about `metadataBytes` bytes each (one text
 * field), spread over the day so every record is its own file.
 */
export function bulkExport(prefix: string, count: number, metadataBytes = 200): ExportRecord[] {
  const filler = 'x'.repeat(Math.max(0, metadataBytes - 40))
  return Array.from({ length: count }, (_, i) => ({
    externalId: `${prefix}-${i}`,
    url: `https://files.example.invalid/${prefix}/${i}.pdf`,
    fileName: `${prefix} ${i}`,
    mediaType: 'file',
    metadata: { title: `${prefix} ${i}`, body: filler },
    systemName: 'legacy-archive',
    occurredAt: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
  }))
}
