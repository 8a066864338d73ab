/**
 * Files the service reads at run time from its source tree (Lua scripts, the
 * admin page): the compiler copies no .lua, .html or .js beside the .js it
 * emits, so the built code (dist/src/...) reads them from src/ as well.
 */
import { existsSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The nearest directory above `dir` with a package.json: the repository root, from src/ and from dist/src/ alike. */
function repositoryRoot (dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'package.json'))) return at
    if (dirname(at) === at) throw new Error(`no package.json above ${dir}`)
  }
}

/**
 * The source directory of the module whose `import.meta.url` is given, joined
 * with `parts`: for src/deliveries/x.ts and dist/src/deliveries/x.js alike,
 * `<repository>/src/deliveries/...parts`.
 */
export function sourcePath (moduleUrl: string, ...parts: string[]): string {
  const dir = dirname(fileURLToPath(moduleUrl))
  const root = repositoryRoot(dir)
  const inside = relative(root, dir).split(sep)
  if (inside[0] === 'dist') inside.shift()
  return join(root, ...inside, ...parts)
}
