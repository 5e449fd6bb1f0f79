// The image reviewer's checks of scripts/check-image, on small trees and lock files made here.
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  changedPaths,
  listTree,
  type PackageLock,
  reviewNodeModules,
  snapshotTree,
  unwantedPaths,
} from '../../../scripts/image/image-review.ts'

const LOCK: PackageLock = {
  packages: {
    '': {},
    'node_modules/kafkajs': {},
    'node_modules/vitest': { dev: true },
    'node_modules/vitest/node_modules/debug': { dev: true },
    'node_modules/fsevents': { optional: true },
    'node_modules/@biomejs/cli-darwin-arm64': { dev: true, optional: true },
    'node_modules/both-ways': { devOptional: true },
  },
}

describe('reviewNodeModules', () => {
  it('passes a production install: every non-optional production package, no dev package', async () => {
    const installed = new Set(['node_modules/kafkajs'])
    const review = await reviewNodeModules(LOCK, async (key) => installed.has(key))
    expect(review).toEqual({ devPresent: [], prodMissing: [], dev: 3, prod: 1 })
  })

  it('names the dev packages a full install brings, nested ones included', async () => {
    const installed = new Set(Object.keys(LOCK.packages))
    const review = await reviewNodeModules(LOCK, async (key) => installed.has(key))
    expect(review.devPresent).toEqual([
      'node_modules/vitest',
      'node_modules/vitest/node_modules/debug',
      'node_modules/@biomejs/cli-darwin-arm64',
    ])
  })

  it('names the production packages missing, so an empty node_modules cannot pass', async () => {
    const review = await reviewNodeModules(LOCK, async () => false)
    expect(review.prodMissing).toEqual(['node_modules/kafkajs'])
  })
})

describe('unwantedPaths', () => {
  it('flags tests, caches, local state and tool configuration, and nothing else', () => {
    const unwanted = [
      '/app/test/unit/x.test.ts',
      '/app/dist/batcher.spec.js',
      '/app/.cache/node24/bin/node',
      '/app/.stack/kafka',
      '/app/tsconfig.build.json',
      '/root/.npmrc',
    ]
    const wanted = ['/app/dist/main.js', '/app/schemas/file-created.avsc', '/app/package.json']
    expect(unwantedPaths([...wanted, ...unwanted])).toEqual(unwanted)
  })

  it("leaves a dependency's own folders to the lock file review", () => {
    expect(unwantedPaths(['/app/node_modules/some-lib/test/index.js', '/app/node_modules/x/.npmrc'])).toEqual(
      [],
    )
  })
})

describe('listTree, snapshotTree and changedPaths', () => {
  const dirs: string[] = []
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fib-image-review-'))
    dirs.push(dir)
    return dir
  }
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })

  it('does not follow a symbolic link out of the tree (an image mounted on the host)', async () => {
    const root = await tempDir()
    const host = await tempDir()
    await writeFile(join(host, 'host-only'), 'x')
    await mkdir(join(root, 'var'))
    await symlink(host, join(root, 'var/run'))
    expect((await listTree(root)).sort()).toEqual(['var', 'var/run'])
  })

  it('shows files written, re-permissioned and removed between two listings, and nothing else', async () => {
    const root = await tempDir()
    await mkdir(join(root, 'app'))
    await writeFile(join(root, 'app/keep'), 'same')
    await writeFile(join(root, 'app/mode'), 'same')
    await writeFile(join(root, 'app/gone'), 'x')
    await mkdir(join(root, 'etc'))
    const before = await snapshotTree(root)

    await writeFile(join(root, 'etc/new'), 'x')
    await chmod(join(root, 'app/mode'), 0o600)
    await rm(join(root, 'app/gone'))
    const after = await snapshotTree(root)

    expect(changedPaths(before, after)).toEqual(['app', 'app/gone', 'app/mode', 'etc', 'etc/new'])
    expect(changedPaths(after, await snapshotTree(root))).toEqual([])
  })
})
