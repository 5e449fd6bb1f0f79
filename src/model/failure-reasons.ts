/**
 * Why a file got a FAILED result: the reasons the bridge gives itself, and the closed set of classes
 * every reason (the bridge's or Livingdocs' free text) falls in. The class is what metrics, alerts,
 * dashboards and redrive selections use; the reason text stays in the result event.
 */

/** Reason of the files of a job that failed as a whole ([F] §1.2: `state: "failed"`, no files). */
export const JOB_FAILED_REASON = 'import job failed'
/** Reason of the files of a job Livingdocs did not know after the grace window and every resubmit. */
export const JOB_LOST_REASON = 'import job lost'
/** Reason of the files of a job Livingdocs reported running for longer than `JOB_TIMEOUT_MS`. */
export const TIMEOUT_REASON = 'timeout'
/** Reason of a file the finished job listed no result for, after a second read. */
export const NO_RESULT_REASON = 'the finished import job reported no result for this file'
/** Prefix of the reason of a file the API refused for its own data (a batch of one, `file-data`). */
export const REJECTED_REASON_PREFIX = 'rejected by the import API: '
/** Prefix of the reason of a file whose entry alone exceeds any import request (`BATCH_MAX_BYTES`). */
export const TOO_LARGE_REASON_PREFIX = 'file entry is '
/**
 * Prefix of the reason of a file whose existing entry kept changing in Livingdocs while the bridge
 * updated its metadata (`ON_EXISTING=metadata`: every PATCH answered 409, [ML] §11.1), or vanished: an
 * editor's change is never overwritten blindly.
 */
export const CONFLICT_REASON_PREFIX = 'conflict: '
/** Prefix of the reason of a file whose metadata update Livingdocs refused (400, 413, 422 on the PATCH). */
export const METADATA_REJECTED_PREFIX = 'metadata update rejected by the API: '

/**
 * The classes of FAILED reasons, a closed set (metric label `reason_class`):
 *
 * | class | reasons | whose fault |
 * |---|---|---|
 * | `upload` | Livingdocs' `Could not upload file` / `image` / `video` (the download or the file's bytes, [F] §1.2, [I], [V]) | the file |
 * | `metadata` | Livingdocs' `Invalid metadata…` ([D]) or `Metadata validation failed…` ([M]); {@link METADATA_REJECTED_PREFIX} | the file |
 * | `media-type` | Livingdocs' `Invalid mediaType…` (a handle the project config lacks, §10) | the file |
 * | `rejected` | {@link REJECTED_REASON_PREFIX}: the API refused the file's own data at submit | the file |
 * | `too-large` | {@link TOO_LARGE_REASON_PREFIX}: its entry alone exceeds any request | the file |
 * | `timeout` | {@link TIMEOUT_REASON} | not the file |
 * | `conflict` | {@link CONFLICT_REASON_PREFIX}: an editor changed the entry during the update | not the file |
 * | `job-failed` | {@link JOB_FAILED_REASON} | not the file |
 * | `job-lost` | {@link JOB_LOST_REASON} | not the file |
 * | `no-result` | {@link NO_RESULT_REASON} | not the file |
 * | `other` | any other text Livingdocs gives | the file (Livingdocs said so) |
 */
export const FAILURE_CLASSES = [
  'upload',
  'metadata',
  'media-type',
  'rejected',
  'too-large',
  'timeout',
  'conflict',
  'job-failed',
  'job-lost',
  'no-result',
  'other',
] as const
export type FailureClass = (typeof FAILURE_CLASSES)[number]

/**
 * The classes whose reason blames something other than the file (see {@link isFailureNotOfTheFile}):
 * its files would likely import on another try. The alert `FileImportBridgeFailedNotByFile` watches
 * exactly these (test/unit/deploy/alert-rules.test.ts).
 */
export const CLASSES_NOT_OF_THE_FILE = [
  'timeout',
  'conflict',
  'job-failed',
  'job-lost',
  'no-result',
] as const satisfies readonly FailureClass[]

/** The class of a FAILED result's `reason` (see {@link FAILURE_CLASSES}); `other` for unknown text. */
export function failureClass(reason: string | null | undefined): FailureClass {
  if (reason === null || reason === undefined) return 'other'
  switch (reason) {
    case TIMEOUT_REASON:
      return 'timeout'
    case JOB_FAILED_REASON:
      return 'job-failed'
    case JOB_LOST_REASON:
      return 'job-lost'
    case NO_RESULT_REASON:
      return 'no-result'
  }
  if (reason.startsWith(REJECTED_REASON_PREFIX)) return 'rejected'
  if (reason.startsWith(TOO_LARGE_REASON_PREFIX)) return 'too-large'
  if (reason.startsWith(CONFLICT_REASON_PREFIX)) return 'conflict'
  if (reason.startsWith(METADATA_REJECTED_PREFIX)) return 'metadata'
  if (/^could not upload\b/i.test(reason)) return 'upload'
  if (/^(invalid metadata|metadata validation failed)\b/i.test(reason)) return 'metadata'
  if (/^invalid mediatype\b/i.test(reason)) return 'media-type'
  return 'other'
}

/**
 * Whether a FAILED result's `reason` blames something other than the file itself: a reason the bridge
 * gave on its own for the job (failed as a whole, lost, timed out, no result listed) or for an update of
 * its existing entry that an editor's change stopped (conflict). Livingdocs'
 * per-file reasons (`Could not upload file`, `Invalid metadata`, …) and a rejection of the file's own
 * data by the API blame the file. The fault runs of the tests report the count as `failedForUs`.
 */
export function isFailureNotOfTheFile(reason: string | null | undefined): boolean {
  return (CLASSES_NOT_OF_THE_FILE as readonly FailureClass[]).includes(failureClass(reason))
}

/**
 * Reasons of SKIPPED results under `ON_EXISTING=metadata` (src/update/): the file's entry existed
 * (Livingdocs said `already exists`), and its metadata was updated to the event's, or was the event's
 * already. {@link BYTES_NOT_REPLACED} is added when the event's checksum says the bytes changed: no
 * public endpoint replaces them (§11.3).
 */
export const METADATA_UPDATED = 'metadata updated'
export const METADATA_UNCHANGED = 'metadata unchanged'
export const BYTES_NOT_REPLACED = '; content changed, bytes not replaced'
