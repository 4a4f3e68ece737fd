/**
 * Translating a request into the requirement bits it needs, and a worker's pop into the bits it offers
 * (see `requirements.ts`). A bit is offered only when the worker both allows it (`allow_*`) and its
 * bridge can do it (capability table, or everything in permissive mode).
 */

import type { BridgeProfile } from '../models/types.js';
import type { ImageGenerateBody, TextGenerateBody } from '../requests/schemas.js';
import type { ImageWorkerProfile, TextWorkerProfile } from '../storage/types.js';
import { Need } from './requirements.js';

export function imageNeeds(body: ImageGenerateBody): number {
  const p = body.params;
  let needs = 0;
  if (body.nsfw) needs |= Need.nsfw;
  if (body.trusted_workers) needs |= Need.trusted;
  if (!body.slow_workers) needs |= Need.fast;
  if (!body.extra_slow_workers) needs |= Need.standardSpeed;
  if (body.source_image !== undefined) needs |= Need.img2img;
  if (
    body.source_image !== undefined &&
    (body.source_processing === 'inpainting' || body.source_processing === 'outpainting')
  ) {
    needs |= Need.painting;
  }
  if (p.post_processing.length > 0) needs |= Need.postProcessing;
  if (p.loras.length > 0) needs |= Need.lora;
  if (p.loras.some((lora) => lora.is_version)) needs |= Need.loraVersions;
  if (p.tis.length > 0) needs |= Need.textualInversion;
  if (p.control_type !== undefined) needs |= Need.controlnet;
  if (p.transparent) needs |= Need.sdxlControlnet | Need.layerDiffuse;
  if (body.r2) needs |= Need.r2;
  if (p.hires_fix) needs |= Need.hiresFix;
  if (p.tiling) needs |= Need.tiling;
  if (p.clip_skip !== undefined && p.clip_skip > 1) needs |= Need.clipSkip;
  if ((body.extra_source_images?.length ?? 0) > 0) needs |= Need.extraSourceImages;
  if (p.workflow === 'qr_code') needs |= Need.qrCode | Need.controlnet;
  if (p.return_control_map) needs |= Need.returnControlMap;
  if (p.image_is_control) needs |= Need.imageIsControl;
  return needs;
}

export function textNeeds(body: TextGenerateBody): number {
  let needs = 0;
  if (body.trusted_workers) needs |= Need.trusted;
  if (!body.slow_workers) needs |= Need.fast;
  if (!body.extra_slow_workers) needs |= Need.standardSpeed;
  if (body.validated_backends) needs |= Need.validatedBackend;
  return needs;
}

export interface WorkerStanding {
  /** The owner is trusted. */
  trusted: boolean;
  /** The worker's speed clears the slow-worker threshold. */
  fast: boolean;
}

export function imageOffers(
  pop: ImageWorkerProfile,
  bridge: BridgeProfile,
  standing: WorkerStanding,
): number {
  const can = (capability: string) => bridge.capabilities.has(capability);
  let offers = 0;
  if (pop.nsfw) offers |= Need.nsfw;
  if (standing.trusted) offers |= Need.trusted;
  if (standing.fast) offers |= Need.fast;
  if (!pop.extra_slow_worker) offers |= Need.standardSpeed;
  if (pop.allow_img2img && can('img2img')) offers |= Need.img2img;
  if (pop.allow_painting && can('inpainting')) offers |= Need.painting;
  if (pop.allow_post_processing && can('post-processing')) offers |= Need.postProcessing;
  if (pop.allow_lora && can('lora')) offers |= Need.lora;
  if (pop.allow_lora && can('lora_versions')) offers |= Need.loraVersions;
  if (can('textual_inversion')) offers |= Need.textualInversion;
  if (pop.allow_controlnet && can('controlnet')) offers |= Need.controlnet;
  if (pop.allow_sdxl_controlnet) offers |= Need.sdxlControlnet;
  if (can('r2')) offers |= Need.r2;
  if (can('hires_fix')) offers |= Need.hiresFix;
  if (can('tiling')) offers |= Need.tiling;
  if (can('clip_skip')) offers |= Need.clipSkip;
  if (can('extra_source_images')) offers |= Need.extraSourceImages;
  if (can('qr_code')) offers |= Need.qrCode;
  if (can('layer_diffuse')) offers |= Need.layerDiffuse;
  if (can('return_control_map')) offers |= Need.returnControlMap;
  if (can('image_is_control')) offers |= Need.imageIsControl;
  return offers;
}

export function textOffers(pop: TextWorkerProfile, bridge: BridgeProfile, standing: WorkerStanding): number {
  let offers = 0;
  if (standing.trusted) offers |= Need.trusted;
  if (standing.fast) offers |= Need.fast;
  if (!pop.extra_slow_worker) offers |= Need.standardSpeed;
  if (bridge.validatedTextBackend) offers |= Need.validatedBackend;
  return offers;
}
