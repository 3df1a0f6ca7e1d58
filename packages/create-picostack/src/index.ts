export { type CreatedApp, type CreateOptions, checkPackageName, createApp } from './create.ts'
export { CreateError, type CreateErrorCode } from './errors.ts'
export {
  DEFAULT_TEMPLATE,
  resolveTemplate,
  TEMPLATE_ALIASES,
  TEMPLATE_CHOICES,
  TEMPLATE_NAME,
  TEMPLATE_NAMES,
  TEMPLATES_DIR,
  type TemplateChoice,
  type TemplateName,
  templateDir,
} from './template.ts'
export { packWorkspace, tarballName } from './workspace.ts'
