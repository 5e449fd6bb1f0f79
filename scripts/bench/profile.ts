/**
 * Profiling of the bench's children (`--cpu-prof DIR`): V8 CPU profiles of the first round's baseline
 * (DIR/baseline), instant-mode bridge (DIR) and its emulator (DIR/emulator); summarise one with
 * scripts/bench/cpuprofile-top.ts.
 */

/**
 * The Node.js flags that write a V8 CPU profile into `dir`, or into its `subfolder` when given
 * (`--cpu-prof --cpu-prof-dir=<dir>[/<subfolder>]`); none when `dir` is undefined (no profile asked for).
 */
export function cpuProfFlags(dir: string | undefined, subfolder?: string): string[] {
  if (dir === undefined) return []
  return ['--cpu-prof', `--cpu-prof-dir=${subfolder === undefined ? dir : `${dir}/${subfolder}`}`]
}
