// The progress bar of `npm run redrive` (scripts/redrive/progress.ts): drawn by cli-progress on a
// terminal, absent on a pipe (where the summary line alone is printed).
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { startProgress } from '../../../scripts/redrive/progress.ts'

/** A stream that records what is written to it, claiming to be a terminal of 120 columns or not. */
function captured(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'))
      done()
    },
  }) as unknown as NodeJS.WriteStream
  Object.assign(stream, { isTTY, columns: 120 })
  // The bar's text without the terminal's control sequences (cursor moves, line clears).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are what is removed
  return { stream, text: () => chunks.join('').replace(/\x1B(\[[0-9;?]*[A-Za-z]|[78])/g, '') }
}

describe('the progress bar of npm run redrive', () => {
  it('on a terminal shows the label and the count from the start, and the last count when stopped', () => {
    const { stream, text } = captured(true)
    const bar = startProgress('reading the DLQ', 200, stream)
    expect(text()).toContain('reading the DLQ [')
    expect(text()).toContain('0% | 0/200')
    bar.update(50)
    bar.stop()
    expect(text()).toContain('25% | 50/200')
  })

  it('never counts past the total (a topic that grew while it was read)', () => {
    const { stream, text } = captured(true)
    const bar = startProgress('sending', 10, stream)
    bar.update(13)
    bar.stop()
    expect(text()).toContain('100% | 10/10')
    expect(text()).not.toContain('13/10')
  })

  it('writes nothing on a pipe, or when there is nothing to count', () => {
    const pipe = captured(false)
    const onPipe = startProgress('sending', 10, pipe.stream)
    onPipe.update(5)
    onPipe.stop()
    expect(pipe.text()).toBe('')
    const empty = captured(true)
    const nothing = startProgress('sending', 0, empty.stream)
    nothing.update(1)
    nothing.stop()
    expect(empty.text()).toBe('')
  })
})
