import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/** The part of package-lock.json (lockfileVersion 3) that says what `npm ci --omit=dev` installs. */
export interface PackageLock {
  packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>
}

/**
 * Compares an image's `node_modules` with the lock file it was installed from: every package the lock
 * marks `dev` must be absent (the runtime stage copies the `npm ci --omit=dev` stage), and every package
 * that is neither dev nor optional must be present (so an empty or misplaced `node_modules` cannot pass).
 * Packages marked `devOptional` (dev for one path, optional for another) are judged by neither list.
 *
 * @param lock the parsed package-lock.json
 * @param isInstalled whether `<app>/<lock key>` exists in the image, e.g. `node_modules/kafkajs`
 * @returns the dev packages found, the production packages missing, and how many of each were looked at
 */
export async function reviewNodeModules(
  lock: PackageLock,
  isInstalled: (lockKey: string) => Promise<boolean>,
): Promise<{ devPresent: string[]; prodMissing: string[]; dev: number; prod: number }> {
  const devPresent: string[] = []
  const prodMissing: string[] = []
  let dev = 0
  let prod = 0
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || entry.devOptional) continue
    if (entry.dev) {
      dev++
      if (await isInstalled(key)) devPresent.push(key)
    } else if (!entry.optional) {
      prod++
      if (!(await isInstalled(key))) prodMissing.push(key)
    }
  }
  return { devPresent, prodMissing, dev, prod }
}

/** Names that have no business in a runtime image: build caches, local state, tests, VCS, secrets. */
const UNWANTED_NAME =
  /^(\.cache|\.stack|\.git|\.npmrc|\.env|\.nvmrc|coverage|bench-results|test|tests|__tests__|tsconfig(\..+)?\.json|vitest\.config\.ts|biome\.json|Dockerfile|\.dockerignore)$|\.(test|spec)\.[cm]?[jt]sx?$/

/**
 * The paths among `paths` (relative, `/`-separated) that an image reviewer would reject: the project's
 * tests, build and tool configuration, caches (`.cache`, `.stack`), VCS data and npm configuration.
 * Folders inside `node_modules` are not judged by name (a dependency may ship a `test` folder of its
 * own); the caller reviews dependencies with {@link reviewNodeModules}.
 */
export function unwantedPaths(paths: Iterable<string>): string[] {
  const out: string[] = []
  for (const path of paths) {
    const parts = path.split('/')
    const own = parts.includes('node_modules') ? parts.slice(0, parts.indexOf('node_modules')) : parts
    if (own.some((name) => UNWANTED_NAME.test(name))) out.push(path)
  }
  return out
}

/**
 * Every path under `root`, relative and `/`-separated, without following symbolic links: fs.readdir's
 * `recursive` follows them, and an absolute link in a mounted image (Debian's /var/run -> /run) would
 * lead into the host's own file system.
 *
 * @throws Error when `root` cannot be read
 */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = []
  const visit = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`
      out.push(path)
      if (entry.isDirectory()) await visit(path)
    }
  }
  await visit('')
  return out
}

/** A file system listing: relative path → `type mode uid:gid size mtime` (symlinks not followed). */
export type Snapshot = Map<string, string>

/**
 * Lists every entry under `root` with its type, permissions, owner, size and modification time, so
 * that two listings taken before and after a run show what the run wrote ({@link changedPaths}).
 *
 * @param root a mounted container root file system
 * @throws Error when `root` cannot be read
 */
export async function snapshotTree(root: string): Promise<Snapshot> {
  const out: Snapshot = new Map()
  for (const rel of await listTree(root)) {
    try {
      const s = await lstat(join(root, rel))
      const type = s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'l' : s.isFile() ? 'f' : 'o'
      out.set(rel, `${type} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${s.size} ${s.mtimeMs}`)
    } catch {
      // Removed between readdir and lstat: the next listing shows it missing.
    }
  }
  return out
}

/** Paths added, removed or changed (type, mode, owner, size or mtime) from `before` to `after`, sorted. */
export function changedPaths(before: Snapshot, after: Snapshot): string[] {
  const out = new Set<string>()
  for (const [path, stat] of after) if (before.get(path) !== stat) out.add(path)
  for (const path of before.keys()) if (!after.has(path)) out.add(path)
  return [...out].sort()
}
