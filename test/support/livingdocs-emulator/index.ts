// Public entry of the Livingdocs file import API emulator. See README.md.
export type { LivingdocsEmulator } from './app.ts'
export { checkVariants, createLivingdocsEmulator } from './app.ts'
export {
  DEFAULT_API_VERSIONS,
  formatStartedAt,
  INVALID_MEDIA_TYPE,
  INVALID_METADATA,
  UPLOAD_FAILED,
} from './core.ts'
export type { ErrorBody } from './faults.ts'
export { errorBody } from './faults.ts'
export type { RunningLivingdocsEmulator, StartLivingdocsEmulatorOptions } from './server.ts'
export { startLivingdocsEmulator } from './server.ts'
export type * from './types.ts'
export { DEFAULT_VARIANTS, NO_FAULTS, WRITE_SCOPE } from './types.ts'
export { MAX_CONTEXT_BYTES } from './validation.ts'
