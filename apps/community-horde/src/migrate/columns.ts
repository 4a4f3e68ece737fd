/**
 * The PostgreSQL columns the migration writes: the account money columns by record field, and each copied
 * table's column list.
 */
import type { AccountContribution, AccountUsage, KudosDetails } from '@hordekit/core';

export const DETAILS: Record<keyof KudosDetails, string> = {
  accumulated: 'd_accumulated',
  gifted: 'd_gifted',
  donated: 'd_donated',
  admin: 'd_admin',
  received: 'd_received',
  recurring: 'd_recurring',
  awarded: 'd_awarded',
  styled: 'd_styled',
};
export const USAGE_COLUMNS: Record<keyof AccountUsage, string> = {
  megapixelsteps: 'u_megapixelsteps',
  tokens: 'u_tokens',
  imageRequests: 'u_image_requests',
  textRequests: 'u_text_requests',
};
export const CONTRIBUTION: Record<keyof AccountContribution, string> = {
  megapixelsteps: 'c_megapixelsteps',
  tokens: 'c_tokens',
  imagesFulfilled: 'c_images',
  textsFulfilled: 'c_texts',
};

/** Column names, space-separated. */
const columns = (names: string) => names.split(' ');

export const ACCOUNT_COLUMNS = columns(
  'id username kind api_key_hash roles created_at concurrency stripes contact public_workers',
);
export const MONEY_COLUMNS = [
  ...columns('account_id stripe balance escrow reserved active'),
  ...Object.values(DETAILS),
  ...Object.values(USAGE_COLUMNS),
  ...Object.values(CONTRIBUTION),
];
export const REQUEST_COLUMNS = columns(
  'id kind account_id stripe body models needs pixels max_length max_context_length things job_price priority sort_key seq jobs waiting processing finished faults state created_at expires_at consumed reserved meta',
);
export const JOB_COLUMNS = columns(
  'id request_id kind worker_id worker_owner_id model seed batch_index state created_at lease_expires_at things result completed_at reward cost',
);
export const WORKER_COLUMNS = columns(
  'id name kind owner_id created_at last_check_in online_since uptime_credited_at profile maintenance maintenance_message paused info speed_samples recent_aborts requests_fulfilled kudos_generated kudos_uptime things_generated uncompleted_jobs',
);
export const JOURNAL_COLUMNS = columns('id at account_id kind balance_delta escrow_delta bucket ref');
export const TRANSFER_COLUMNS = columns('id from_id to_id amount idempotency_key at');
export const STATS_COLUMNS = columns('kind span start model shard jobs things');
