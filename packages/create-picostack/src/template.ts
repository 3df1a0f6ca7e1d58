/** Where the bundled template lives and what it is called before an app renames it. */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package name inside `template/`; `createApp` replaces it with the app's name. */
export const TEMPLATE_NAME = 'picostack-app'

/** This package's folder (the sources in `src/` and the build in `dist/` sit one below it). */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The bundled template, written by `build` (`src/build-template.ts`) and shipped in the package. */
export const TEMPLATE_DIR = join(PACKAGE_DIR, 'template')
