import { createHmac, timingSafeEqual } from 'node:crypto'

/** Hex digits of an HMAC-SHA256 (32 bytes). */
const SIGNATURE_HEX_LENGTH = 64

/**
 * The signature the bridge puts in an import request's `context` next to `batchId`: hex
 * HMAC-SHA256(secret, batchId). Livingdocs echoes `context` in the job's webhook ([F] §2, §5), and the
 * job id cannot be signed because it only exists once the POST returns. Any replica holding the shared
 * secret can verify it.
 *
 * @param secret the `WEBHOOK_SECRET` (UTF-8)
 * @param batchId the bridge's batch id, as sent in `context.batchId`
 * @returns 64 lowercase hex characters
 */
export function signBatchId(secret: string, batchId: string): string {
  return createHmac('sha256', secret).update(batchId, 'utf8').digest('hex')
}

/**
 * Checks a webhook's `context.signature` against `context.batchId` in constant time
 * (`crypto.timingSafeEqual`, so the comparison leaks nothing about how many characters matched).
 *
 * @returns true only for a 64-hex-digit signature equal to {@link signBatchId}(secret, batchId)
 */
export function verifyBatchSignature(secret: string, batchId: string, signature: string): boolean {
  if (signature.length !== SIGNATURE_HEX_LENGTH || !/^[0-9a-fA-F]+$/.test(signature)) return false
  const expected = Buffer.from(signBatchId(secret, batchId), 'hex')
  const given = Buffer.from(signature, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/**
 * The webhook URL of one batch: `<webhookUrl>/<batchId>?sig=<signBatchId(secret, batchId)>`. The proof
 * travels in the URL the bridge itself hands Livingdocs ([F] §1.1 `webhook`), so a webhook is
 * authenticated whatever its body, its content type, and whether Livingdocs echoes `context` ([F] §2
 * and §9: neither is documented). Batch ids are URL-safe (letters, digits, `-` and `.`), and are
 * percent-encoded all the same.
 *
 * @param webhookUrl the bridge's webhook base, `<WEBHOOK_PUBLIC_URL>/webhooks/livingdocs/import-jobs`
 * @param signature `signBatchId(secret, batchId)` when the caller has it already (one HMAC per request)
 */
export function signedWebhookUrl(
  webhookUrl: string,
  batchId: string,
  secret: string,
  signature: string = signBatchId(secret, batchId),
): string {
  return `${webhookUrl}/${encodeURIComponent(batchId)}?sig=${signature}`
}
