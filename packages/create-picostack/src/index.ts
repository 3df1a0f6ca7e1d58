export { type CreatedApp, type CreateOptions, checkPackageName, createApp } from './create.ts'
export { CreateError, type CreateErrorCode } from './errors.ts'
export { TEMPLATE_DIR, TEMPLATE_NAME } from './template.ts'
export { packWorkspace, tarballName } from './workspace.ts'
