/**
 * Runs every suite in `src/suites/` (each default-exports an async function that prints
 * its own table), or only those named on the command line: `pnpm bench feed net`.
 */
import { readdirSync } from 'node:fs'

const dir = new URL('./suites/', import.meta.url)
const wanted = process.argv.slice(2).filter((arg) => arg !== '--')
const suites = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort()

console.log(`# picostack bench (node ${process.version}, ${new Date().toISOString()})`)
for (const name of suites) {
  const suite = (await import(new URL(`${name}.ts`, dir).href)) as { default: () => Promise<void> }
  await suite.default()
}
