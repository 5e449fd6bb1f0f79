// The image's node flags, which the bench reuses: parsed from the Dockerfile's entry command, and
// accepted by this Node.js (a V8 flag dropped by an upgrade would stop the container at start).
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { imageNodeFlags, imageNodeOptions, projectImageNodeFlags } from '../../../scripts/bench/image.ts'

describe('imageNodeFlags', () => {
  it('takes the flags between node and the script of the last exec-form CMD, not the HEALTHCHECK', () => {
    const dockerfile = [
      'FROM node:24 AS build',
      'CMD ["node", "--inspect", "build.js"]',
      'FROM node:24',
      'HEALTHCHECK --interval=30s \\',
      '  CMD ["node", "-e", "process.exit(0)"]',
      'CMD ["node", "--a=1", "--b", "dist/main.js", "--not-a-node-flag"]',
    ].join('\n')
    expect(imageNodeFlags(dockerfile)).toEqual(['--a=1', '--b'])
  })

  it('throws for a Dockerfile without a node entry command', () => {
    expect(() => imageNodeFlags('FROM node:24\nCMD npm start\n')).toThrow(/no exec-form CMD/)
    expect(() => imageNodeFlags('CMD ["python", "app.py"]\n')).toThrow(/not \["node"/)
    expect(() => imageNodeFlags('CMD ["node", "--flag"]\n')).toThrow(/names no script/)
  })
})

describe('imageNodeOptions', () => {
  it("takes the last ENV NODE_OPTIONS line's value", () => {
    const dockerfile = 'FROM node:24\nENV NODE_OPTIONS="--a"\nFROM node:24\nENV NODE_OPTIONS="--b=1 --c=2"\n'
    expect(imageNodeOptions(dockerfile)).toBe('--b=1 --c=2')
    expect(imageNodeOptions('FROM node:24\nENV NODE_ENV=production\n')).toBe('')
  })
})

describe("the project's Dockerfile", () => {
  const flags = projectImageNodeFlags()

  it('gives V8 the heap growing factor the benchmark measured', () => {
    expect(flags).toContain('--heap-growing-percent=100')
  })

  it('has flags this Node.js accepts', () => {
    const run = spawnSync(process.execPath, [...flags, '-e', 'process.exit(0)'], { encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
  })

  it('would catch a flag Node.js refuses', () => {
    const run = spawnSync(process.execPath, ['--heap-growing-percentage=100', '-e', '0'], {
      encoding: 'utf8',
    })
    expect(run.status).not.toBe(0)
  })

  describe('NODE_OPTIONS for a run without the chart', () => {
    const nodeOptions = imageNodeOptions(
      readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8'),
    )
    const runWith = (options: string) =>
      spawnSync(process.execPath, ['-e', 'process.exit(0)'], {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: options },
      })

    it('caps the heap', () => {
      expect(nodeOptions).toMatch(/--max-old-space-size=\d+/)
    })

    it('are options Node.js allows in NODE_OPTIONS', () => {
      const run = runWith(nodeOptions)
      expect(run.stderr).toBe('')
      expect(run.status).toBe(0)
    })

    it('could not carry the heap growing flag, which is why that one is in the CMD', () => {
      const run = runWith('--heap-growing-percent=100')
      expect(run.stderr).toMatch(/not allowed in NODE_OPTIONS/)
      expect(run.status).not.toBe(0)
    })
  })
})
