// Request validation: `unknown` in, a normalised body or a `HordeError` out. The engine calls these before
// it touches storage; the server maps the `rc` to an HTTP status.

// shared: error shape, NUL guard, transfer amounts
export {
  assertNoNulBytes,
  formatZodError,
  parseTransferAmount,
  parseWith,
  type ValidationContext,
  validationError,
} from './validate-common.js';
// image generate and submit
export { type ParsedImageRequest, parseImageRequest, parseImageSubmit } from './validate-image.js';
// text generate and submit
export { parseTextRequest, parseTextSubmit } from './validate-text.js';
// worker pops
export { type PopValidationContext, parseImagePop, parseTextPop } from './validate-worker.js';
