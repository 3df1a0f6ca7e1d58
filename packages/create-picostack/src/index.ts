export { type CreatedApp, type CreateOptions, checkPackageName, createApp } from './create.ts'
export { CreateError, type CreateErrorCode } from './errors.ts'
export {
  DEFAULT_TEMPLATE,
  TEMPLATE_NAME,
  TEMPLATE_NAMES,
  TEMPLATES_DIR,
  type TemplateName,
  templateDir,
} from './template.ts'
export { packWorkspace, tarballName } from './workspace.ts'
