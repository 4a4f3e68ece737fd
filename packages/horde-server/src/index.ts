// @hordekit/horde-server: the AI Horde v2 HTTP API lands with issue 3. It will reuse these schemas.
export { ImageGenerateSchema, TextGenerateSchema } from '@hordekit/core';
