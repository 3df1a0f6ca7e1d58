/**
 * Test support shared by the packages' browser-bundle tests: bundles an entry with esbuild
 * the way a browser app's bundler would (platform browser, workspace packages resolved to
 * their sources, nothing marked external), in memory.
 */
import { type BuildOptions, build } from 'esbuild'

/** What a browser bundle contains. */
export interface BrowserBundle {
  /** The bundled code. */
  code: string
  /** Every input file esbuild read (paths relative to the working directory). */
  inputs: string[]
}

/**
 * Bundles `entry` (a file path) for browsers; `options` override the defaults (ESM).
 * @throws esbuild's error when the bundle cannot be built (a Node built-in cannot be
 *   resolved for platform browser, for example)
 */
export async function bundleForBrowser(
  entry: string,
  options: BuildOptions = {},
): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    conditions: ['@picostack/source'],
    ...options,
  })
  const [output] = result.outputFiles ?? []
  if (!output || !result.metafile) throw new Error('esbuild returned no output')
  return { code: output.text, inputs: Object.keys(result.metafile.inputs) }
}
