// Express 5 app of the Livingdocs import API emulator: the file, image and video imports and their controls.
// Sheet: [F] §1.1/§1.2, [I][V] §7 (endpoints), §3 (auth), §4 (versions), §5 (limits, quota), §6 (errors).
import { setTimeout as sleep } from 'node:timers/promises'
import express from 'express'
import { EmulatorCore } from './core.ts'
import { stampRequestFaults } from './faults.ts'
import { importHandler, statusHandler } from './handlers.ts'
import { KINDS } from './kinds.ts'
import { mediaKey } from './library.ts'
import { entryHandler, LIBRARY_LABELS, lookupHandler, patchHandler } from './media-library.ts'
import {
  checkAuth,
  checkVersion,
  countRequests,
  deprecationNotice,
  endpointGate,
  errorHandler,
  notFound,
} from './middleware.ts'
import type { EmulatorStats, JobRecord, MediaEntry } from './model.ts'
import type { EmulatorFaults, EmulatorVariants, LivingdocsEmulatorOptions } from './types.ts'
import { READ_SCOPE, WRITE_SCOPE } from './types.ts'

/** The emulator without a listening server. */
export type LivingdocsEmulator = {
  /** The Express app; mount it or `listen` it yourself. */
  app: express.Express
  /** The token `startLivingdocsEmulator` reports (has `public-api:write` by default). */
  token: string
  /** The API version `startLivingdocsEmulator` reports (default `2026-07`). */
  apiVersion: string
  /** Merges faults over the current ones (a `count` set here is the number of next hits). */
  setFaults: (patch: Partial<EmulatorFaults>) => void
  /** The current faults (a copy; counts show what is left). */
  getFaults: () => EmulatorFaults
  /**
   * Merges variants over the current ones. Status renderings apply to every later answer, also of finished
   * jobs; `reimport` and `undetectedMimeType` to entries processed later; `mediaTypeRequired` to later POSTs;
   * the webhook variants to webhooks sent later.
   * @throws Error on an unknown variant name or value
   */
  setVariants: (patch: Partial<EmulatorVariants>) => void
  /**
   * Replaces the accepted tokens and their scopes ([GS] §3): revoke a token (leave it out) or rotate it
   * (a new one in its place). `reset()` restores the construction's tokens.
   */
  setTokens: (tokens: Record<string, string[]>) => void
  /** The current variants (a copy). */
  getVariants: () => EmulatorVariants
  /** A snapshot of the counters. */
  stats: () => EmulatorStats
  /** A copy of a job record (any import), or undefined. */
  getJob: (id: string) => JobRecord | undefined
  /** Copies of all job records, in creation order. */
  listJobs: () => JobRecord[]
  /** A copy of the media library entry of a `systemName`/`externalId` pair (any kind), or undefined. [IA] §7 */
  getMedia: (systemName: string, externalId: string) => MediaEntry | undefined
  /** Copies of all media library entries. */
  listMedia: () => MediaEntry[]
  /** Cancels running jobs and clears jobs, media, counters, quota usage; faults/variants back to construction values. */
  reset: () => Promise<void>
  /** Cancels running jobs (waits until they have settled) and closes the outgoing HTTP agent. */
  shutdown: () => Promise<void>
}

type EnumVariant = Exclude<keyof EmulatorVariants, 'webhookContentType'>

const VARIANT_VALUES: { [K in EnumVariant]: EmulatorVariants[K][] } = {
  perFileSuccessValue: ['imported', 'success'],
  perFileStateKey: ['state', 'status'],
  unknownJob: ['lost', '404'],
  reimport: ['skip', 'update'],
  mediaTypeRequired: ['openapi', 'always'],
  undetectedMimeType: ['content-type', 'octet-stream'],
  webhookContext: ['echo', 'omit'],
  deprecationHeader: ['deprecation', 'warning', 'sunset'],
  lookupMiss: ['empty', '404'],
  legacyListShape: ['object', 'array'],
}

/**
 * Checks a variants patch: each enum variant takes one of its values; `webhookContentType` a non-empty
 * string or `null` (no header).
 * @throws Error on an unknown variant name or value
 */
export const checkVariants = (patch: Partial<EmulatorVariants>): void => {
  for (const [name, value] of Object.entries(patch)) {
    if (name === 'webhookContentType') {
      if (value === null || (typeof value === 'string' && value.trim() !== '')) continue
      throw new Error(`variant webhookContentType must be a non-empty string or null, got ${String(value)}`)
    }
    const allowed = VARIANT_VALUES[name as EnumVariant] as string[] | undefined
    if (!allowed) {
      const known = [...Object.keys(VARIANT_VALUES), 'webhookContentType'].join(', ')
      throw new Error(`unknown variant ${name}; known: ${known}`)
    }
    if (!allowed.includes(value as string)) {
      throw new Error(`variant ${name} must be one of ${allowed.join(', ')}, got ${String(value)}`)
    }
  }
}

/**
 * Creates the emulator app and its controls (no server). See README.md for every behaviour.
 * Endpoints per import (`files` [F] §1, `images` [I], `videos` [V] §7): `POST /api/:apiVersion/import/<kind>`
 * and `GET /api/:apiVersion/import/<kind>/status?id=`.
 * @param options see {@link LivingdocsEmulatorOptions}; all optional, the defaults play a real Livingdocs
 * @throws Error when `options.apiVersion` is not served, `options.variants` has an invalid value or
 *   `options.mediaTypes` is not a valid project config
 */
export const createLivingdocsEmulator = (options: LivingdocsEmulatorOptions = {}): LivingdocsEmulator => {
  if (options.variants) checkVariants(options.variants)
  const core = new EmulatorCore(options)
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)

  // Latency fault: added before every response.
  app.use(async (_req, _res, next) => {
    const ms = core.faults.latencyMs
    if (ms > 0) await sleep(ms)
    next()
  })
  app.use(countRequests(core))

  const gate = endpointGate(core)
  // A served version's answers say when it is deprecated (§11.5), whatever they answer after.
  const version = [checkVersion(core), deprecationNotice(core)]
  const auth = checkAuth(core, WRITE_SCOPE)
  const json = express.json({ limit: core.settings.bodyLimitBytes })
  for (const spec of Object.values(KINDS)) {
    const base = `/api/:apiVersion/import/${spec.path}`
    const { import: importLabel, status: statusLabel } = spec.labels
    app.post(base, gate(importLabel, 'import', spec.kind), version, auth, json, importHandler(core, spec))
    app.get(
      `${base}/status`,
      gate(statusLabel, 'status', spec.kind),
      version,
      auth,
      statusHandler(core, spec),
    )
  }
  // The media library [ML] §11.1, §11.2: reads need public-api:read, the PATCH public-api:write.
  const library = '/api/:apiVersion/mediaLibrary'
  const read = checkAuth(core, READ_SCOPE)
  app.get(library, gate(LIBRARY_LABELS.lookup, 'lookup'), version, read, lookupHandler(core))
  app.get(`${library}/:id`, gate(LIBRARY_LABELS.entry, 'entry'), version, read, entryHandler(core))
  app.patch(`${library}/:id`, gate(LIBRARY_LABELS.patch, 'patch'), version, auth, json, patchHandler(core))
  app.use(notFound)
  app.use(errorHandler(core))

  const copy = <T>(value: T | undefined): T | undefined =>
    value === undefined ? undefined : structuredClone(value)
  return {
    app,
    token: core.settings.token,
    apiVersion: core.settings.apiVersion,
    setFaults: (patch) => {
      core.faults = { ...core.faults, ...stampRequestFaults(structuredClone(patch), core.now().getTime()) }
    },
    getFaults: () => structuredClone(core.faults),
    setVariants: (patch) => {
      checkVariants(patch)
      core.variants = { ...core.variants, ...patch }
    },
    getVariants: () => ({ ...core.variants }),
    setTokens: (tokens) => {
      core.tokens = structuredClone(tokens)
    },
    stats: () => structuredClone(core.stats),
    getJob: (id) => copy(core.jobs.get(id)),
    listJobs: () => structuredClone([...core.jobs.values()]),
    getMedia: (systemName, externalId) => copy(core.media.get(mediaKey(systemName, externalId))),
    listMedia: () => structuredClone([...core.media.values()]),
    reset: () => core.reset(),
    shutdown: () => core.close(),
  }
}
