import { describe, expect, it } from 'vitest'
import { runScript } from '../support/run-script.ts'

/** `npm run demo`, the main job, on a smaller export against the test's Kafka and registry. */
describe('demo', () => {
  it('ends with a `demo:` line accounting for every produced record, and exits 0', () => {
    // Given the test's broker and registry, and a small sample export
    // When the demo runs
    const run = runScript(
      'scripts/demo.ts',
      ['--images', '8', '--pdfs', '4', '--videos', '3', '--broken', '3', '--repeats', '2'],
      { timeoutMs: 120_000 },
    )

    // Then its last line counts 15 files + 3 broken + 2 repeats + 1 undecodable record, none missing;
    // the 8 images (and the 2 repeats of images) went to the image import, the 3 videos to the video
    // import, the PDFs and broken URLs to the file import
    const lines = run.stdout.trim().split('\n')
    expect(lines.at(-1)).toBe(
      'demo: produced=21 results=20 SUCCESS=15 SKIPPED=2 FAILED=3 dlq=1 missing=0 files=7 images=10 videos=3',
    )
    expect(run.stdout).toMatch(/latency from produce to result p50 \d+ ms, p99 \d+ ms/)
    expect(run.status).toBe(0)
  })
})
