import { z } from 'zod'

/**
 * One submitted import job in the job log (JSON, keyed by job id, on a compacted topic): the bridge's
 * batch id (also in the request's `context`), its systemName and import kind, when it was submitted (epoch ms), and
 * each file's source record and externalId in request order. A file whose result event was published is
 * marked `published` and stays in the entry until its partition's committed offset passes it (a new owner
 * that consumes it again settles it without a submit); the tombstone (null value) for the key is written
 * once no file is left (docs/replicas.md, "Job log").
 */
export const jobLogEntrySchema = z.object({
  jobId: z.string().min(1),
  batchId: z.string().min(1),
  systemName: z.string().min(1),
  // The import the job runs in (its status is read there); entries written before kinds existed are
  // file imports.
  kind: z.enum(['file', 'image', 'video']).default('file'),
  submittedAt: z.number(),
  files: z.array(
    z.object({
      topic: z.string().min(1),
      partition: z.number().int().nonnegative(),
      offset: z.string().regex(/^\d+$/),
      externalId: z.string(),
      // Written only when true; entries written before the mark existed read as not published.
      published: z.boolean().optional(),
    }),
  ),
})

/** A job log entry (see {@link jobLogEntrySchema}). */
export type JobLogEntry = z.infer<typeof jobLogEntrySchema>
