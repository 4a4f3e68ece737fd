/** Fake backends for tests: real HTTP servers on loopback that answer like the real APIs; jobs to send them. */

// Biome keeps exports sorted by path, so the kinds interleave. Image backends: fake-a1111, fake-comfyui,
// fake-openai-images. Text backends: fake-koboldcpp, fake-openai-completions. http-fake: the base of them all.
// jobs: an image or text job and a job context, for any backend.
export * from './fake-a1111.js';
export * from './fake-comfyui.js';
export * from './fake-koboldcpp.js';
export * from './fake-openai-completions.js';
export * from './fake-openai-images.js';
export * from './http-fake.js';
export * from './jobs.js';
