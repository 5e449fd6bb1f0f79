/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, and the
 * packages / source files they belong to. For the benchmark's profiling step.
 *
 *   node scripts/bench/cpuprofile-top.ts <file.cpuprofile> [--top 30]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, callers: { type: 'string' } },
})
const file = positionals[0]
if (file === undefined) {
  process.stderr.write('usage: node scripts/bench/cpuprofile-top.ts <file.cpuprofile> [--top 30]\n')
  process.exit(2)
}
process.stdout.on('error', () => process.exit(0))
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
})
const total = [...self.values()].reduce((a, b) => a + b, 0)
const where = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1] as string
  const src = /\/(src|scripts|test)\/(.*)$/.exec(url)
  if (src) return `${src[1]}/${src[2]}`
  return url === '' ? '(native)' : url.replace(/^node:/, 'node:')
}
const fns = new Map<string, number>()
const groups = new Map<string, number>()
for (const [id, us] of self) {
  const n = byId.get(id)
  if (n === undefined) continue
  const name = `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
  fns.set(name, (fns.get(name) ?? 0) + us)
  const g = where(n.callFrame.url)
  groups.set(g, (groups.get(g) ?? 0) + us)
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`
const top = Number(values.top)
process.stdout.write(
  `profile ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, sampled ${(total / 1e6).toFixed(1)} s\n\nby package / file:\n`,
)
for (const [g, us] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`${pct(us)}  ${(us / 1e6).toFixed(2).padStart(7)} s  ${g}\n`)
process.stdout.write('\nby function (self time):\n')
for (const [f, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`${pct(us)}  ${(us / 1e6).toFixed(2).padStart(7)} s  ${f}\n`)

// --callers NAME: self time of functions named NAME, by the chain of their 14 nearest callers.
if (values.callers !== undefined) {
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const chains = new Map<string, number>()
  for (const [id, us] of self) {
    const n = byId.get(id)
    if (n?.callFrame.functionName !== values.callers) continue
    const names: string[] = []
    let p = parent.get(id)
    while (p !== undefined && names.length < 14) {
      const pn = byId.get(p) as ProfileNode
      names.push(
        `${pn.callFrame.functionName || '(anon)'}@${where(pn.callFrame.url)}:${pn.callFrame.lineNumber + 1}`,
      )
      p = parent.get(p)
    }
    const key = names.join(' < ')
    chains.set(key, (chains.get(key) ?? 0) + us)
  }
  process.stdout.write(`\ncallers of ${values.callers}:\n`)
  for (const [k, us] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${pct(us)}  ${k}\n`)
}
